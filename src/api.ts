// The runtime-neutral part of the public API, shared by the Node and web
// entries (each adds its own `createPool` and transports). Nothing here
// imports node:*, ws or pino at run time.
export { workerFromMachine } from './worker-from-machine.ts';
export type { HostedWorkerInput, ExtraWorkerInput, WorkerFromMachineOptions } from './worker-from-machine.ts';
export { initialWorkerStats } from './worker-stats.ts';
export { normalizeUrl, redactUrl } from './normalize-url.ts';
export { DEFAULTS } from './options.ts';
export type { Defaults } from './options.ts';
export { VERSION } from './version.ts';
export { consoleLogger } from './logger.ts';
export type { Logger, ConsoleLevel } from './logger.ts';
export { webSocketTransport } from './transports/web-socket.ts';
export type { WebSocketConstructor, WebSocketLike } from './transports/web-socket.ts';
export type { Transport, TransportCapabilities, TransportListener, TransportOpenOptions, TransportSocket, TlsOptions } from './transport.ts';
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
  UnsupportedError,
  UnsupportedOptionError
} from './errors.ts';
export type { ErrorCode, NotReadyReason } from './errors.ts';
export type { Pool } from './pool.ts';
export type { LocalPool, PoolShape } from './pool-api.ts';
export type { PoolEvent, PoolEventKind } from './pool-event.ts';
export type {
  InboxMessage,
  PoolInbox,
  PoolEvents,
  ReadyOptions,
  BroadcastResult,
  DisconnectCause,
  InboxOverflow,
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
export { toStatelyInspector } from './inspector/stately-adapter.ts';
export type { StatelyInspectorLike, StatelyAdapterOptions } from './inspector/stately-adapter.ts';
