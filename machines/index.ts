export { workerMachine, nextDialDelay, keepaliveRemaining, heartbeatDelay, nextPingAt, keepaliveTimeoutEvent } from './worker-machine.ts';
export type { WorkerContext, WorkerInput, WorkerTiming, WorkerTag, WorkerMachineTag, SocketInput, HandshakeLogic, ConnectionLogic } from './worker-machine.ts';
export { poolMachine } from './pool-machine.ts';
export type { PoolContext, PoolEmitted, PoolMachineEvent } from './pool-machine.ts';
export { computeBackoff, jitterFactor } from './backoff.ts';
export type { BackoffPolicy } from './backoff.ts';
export { linkSocketLogic } from './worker-link.ts';
export type { WorkerLink, FrameTap } from './worker-link.ts';
export { CLOSE_CAUSES, LIFECYCLE_KINDS } from './worker-events.ts';
export type { CloseCause, SocketEvent, HandshakeEvent, ControlEvent, SelfEvent, WorkerEvent, SocketCommand, WorkerEmitted } from './worker-events.ts';
// The worked examples (authWorkerMachine, probeWorker, ...) are in `honeybee-pool/examples` (machines/examples/index.ts).
