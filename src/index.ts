export { createPool } from './pool.ts';
export { initialWorkerStats } from './worker-stats.ts';
export type { Pool } from './pool.ts';
export { normalizeUrl, redactUrl } from './normalize-url.ts';
export { DEFAULTS } from './options.ts';
export { VERSION } from './version.ts';
export { DefaultWorker, defaultWorkerFactory, defaultWorkerLogic, workerStateName } from './default-worker.ts';
export { workerFromMachine, MachineWorker, toPoolEvent } from './worker-from-machine.ts';
export type { HostedWorkerInput, ExtraWorkerInput, WorkerFromMachineOptions } from './worker-from-machine.ts';
export { ReplayWorker, replayWorkerFactory } from './examples/replay-worker.ts';
export type { RecordedFrame, ReplayOptions } from './examples/replay-worker.ts';
export { wsSocketLogic, classifyClose } from './ws-socket.ts';
export { wsDialer } from './ws-dialer.ts';
export { PeerLink } from './peer-link.ts';
export { createInspector } from './inspector/server.ts';
export type { Inspector, InspectorOptions } from './inspector/server.ts';
export { toStatelyInspector } from './inspector/stately-adapter.ts';
export type { StatelyInspectorLike, StatelyAdapterOptions } from './inspector/stately-adapter.ts';
export type { WatchablePool } from './inspector/stats.ts';
export type { WireMessage, WireSnapshot, WireLifecycle, WireStats, StatelyShapedEvent } from './inspector/wire.ts';
export {
  HoneybeeError,
  ErrorCodes,
  PoolClosedError,
  PeerNotFoundError,
  PeerExistsError,
  ConnectionUnavailableError,
  InvalidUrlError,
  InvalidOptionError,
  InvalidPoolIdError,
  InvalidPayloadError,
  BackpressureError,
  WriteFailedError,
  FactoryError,
  DialFailedError,
  ReadLimitError,
  NotReadyError,
  SecondReaderError,
  UnsupportedError
} from './errors.ts';
export type { ErrorCode, NotReadyReason } from './errors.ts';
export type {
  InboxMessage,
  PoolInbox,
  PoolEvent,
  PoolEvents,
  PoolEventKind,
  ReadyOptions,
  BroadcastResult,
  DisconnectCause,
  InboxOverflow,
  TlsOptions,
  DialOptions,
  Dialer,
  RetryOptions,
  ConnectionOptions,
  ConnectOptions,
  PoolOptions,
  InboxWriter,
  EventWriter,
  PoolPlugin,
  WorkerStats,
  PeerStats,
  PoolStats,
  Worker,
  WorkerFactory
} from './types.ts';
