export { workerMachine, nextDialDelay, keepaliveRemaining } from './worker-machine.ts';
export type { WorkerContext, WorkerInput, WorkerTiming, WorkerTag, SocketInput } from './worker-machine.ts';
export { poolMachine, peerHostLogic } from './pool-machine.ts';
export type { PoolContext, PoolEmitted, PoolMachineEvent, PeerHostInput } from './pool-machine.ts';
export { computeBackoff } from './backoff.ts';
export type { BackoffPolicy } from './backoff.ts';
export { createWorkerLink } from './worker-link.ts';
export type { WorkerLink } from './worker-link.ts';
export type { CloseCause, SocketEvent, ControlEvent, WorkerEvent, SocketCommand, WorkerEmitted } from './worker-events.ts';
export { createFrameLink } from './frame-link.ts';
export type { FrameLink, FrameTap, TestFrameLink } from './frame-link.ts';
// Worked examples of custom worker machines (see "Extending the pool" in the README).
export { authWorkerMachine } from './examples/auth-worker-machine.ts';
export type { AuthWorkerInput, AuthWorkerContext } from './examples/auth-worker-machine.ts';
export { parseAuthFrame, signerFrom, authTapLogic } from './examples/auth-protocol.ts';
export type { AuthFrame, SignerInput } from './examples/auth-protocol.ts';
export { probeWorkerMachine, probeSettings } from './examples/probe-worker-machine.ts';
export type { ProbeSettings, ProbeWorkerInput, ProbeWorkerContext } from './examples/probe-worker-machine.ts';
