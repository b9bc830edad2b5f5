export { createPool } from './pool.ts';
export type { Pool } from './pool.ts';
export { normalizeUrl, redactUrl } from './normalize-url.ts';
export { DEFAULTS } from './options.ts';
export { VERSION } from './version.ts';
export { DefaultWorker, defaultWorkerFactory, defaultWorkerLogic, workerStateName } from './default-worker.ts';
export { wsSocketLogic, classifyClose } from './ws-socket.ts';
export { wsDialer } from './ws-dialer.ts';
export { PeerLink } from './peer-link.ts';
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
  ReadLimitError
} from './errors.ts';
export type { ErrorCode } from './errors.ts';
export type {
  InboxMessage,
  PoolEvent,
  PoolEventKind,
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
