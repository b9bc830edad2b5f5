export { workerMachine, nextDialDelay, keepaliveRemaining } from './worker-machine.ts';
export type { WorkerContext, WorkerInput, WorkerTiming, WorkerTag, SocketInput } from './worker-machine.ts';
export { poolMachine, peerHostLogic } from './pool-machine.ts';
export type { PoolContext, PoolEmitted, PoolMachineEvent, PeerHostInput } from './pool-machine.ts';
export { computeBackoff } from './backoff.ts';
export type { BackoffPolicy } from './backoff.ts';
export { createWorkerLink } from './worker-link.ts';
export type { WorkerLink } from './worker-link.ts';
export type { CloseCause, SocketEvent, ControlEvent, WorkerEvent, SocketCommand, WorkerEmitted } from './worker-events.ts';
