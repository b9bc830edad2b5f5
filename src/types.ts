import type { CloseCause } from '../machines/worker-events.ts';
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { HoneybeeError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { PoolEvent } from './pool-event.ts';
import type { TlsOptions, Transport } from './transport.ts';

export type { PoolEvent, PoolEventKind } from './pool-event.ts';
export type { TlsOptions } from './transport.ts';

/** A message received from a peer, tagged with the peer's id. */
export interface InboxMessage {
  /** The normalized peer id (its URL). */
  readonly id: string;
  /** A string for text frames, a Uint8Array for binary frames. */
  readonly data: string | Uint8Array;
  /** Epoch milliseconds at which the frame was read off the socket. */
  readonly receivedAt: number;
}

/** Why a connection ended: the worker machine's own classification. */
export type DisconnectCause = CloseCause;

/**
 * The pool's inbox as the application reads it: an `AsyncIterable` of
 * messages, plus batch reads for consumers that take hundreds of thousands of
 * messages a second (one promise per batch instead of one per message).
 * Single consumer: every way of reading takes from the same buffer, and a
 * second iterator (or `batches()`) opened while one is still open throws
 * `SecondReaderError` instead of silently splitting the messages.
 * `T` is what a sharded pool's shard module makes of the messages (its `process`).
 *
 * @example
 * ```ts
 * for await (const batch of pool.inbox.batches(512)) {
 *   for (const { id, data } of batch) handle(id, data);
 * }
 * ```
 */
export interface PoolInbox<T = InboxMessage> extends AsyncIterable<T> {
  /** Messages buffered and not yet taken. */
  readonly depth: number;
  /** Takes the oldest message synchronously, or `undefined` when empty. */
  shift(): T | undefined;
  /**
   * Takes up to `max` of the oldest messages synchronously (all of them by
   * default), oldest first; `[]` when empty.
   */
  drain(max?: number): T[];
  /**
   * Yields arrays of messages, oldest first: each waits for at least one
   * message and holds at most `max` (default: everything buffered).
   */
  batches(max?: number): AsyncIterable<T[]>;
}

/**
 * `pool.events` as the application reads it: an `AsyncIterable` of lifecycle
 * events plus synchronous reads, like the inbox. Single consumer: a second
 * iterator opened while one is still open throws `SecondReaderError`.
 */
export interface PoolEvents extends AsyncIterable<PoolEvent> {
  /** Events buffered and not yet taken. */
  readonly depth: number;
  /** Takes the oldest event synchronously, or `undefined` when empty. */
  shift(): PoolEvent | undefined;
  /** Takes up to `max` of the oldest events synchronously (all by default), oldest first; `[]` when empty. */
  drain(max?: number): PoolEvent[];
}

/** What to do when the inbox is full. */
export type InboxOverflow = 'block' | 'drop-oldest' | 'drop-newest';

/** Retry policy for failed dials. */
export interface RetryOptions {
  /** Failed dials in a row before the peer retires; 0 = retry forever. */
  maxRetries: number;
  /**
   * Connections in a row that end before `minUptime` (flaps) before the peer
   * retires; 0 = never. A connection that lives `minUptime` resets the count;
   * failed dials in between neither count nor reset it.
   */
  maxFlaps: number;
  initialDelay: number;
  maxDelay: number;
  jitter: number;
}

/** Per-connection settings; the pool's values apply unless `connect` overrides them. */
export interface ConnectionOptions {
  reconnectDelay: number;
  minUptime: number;
  keepaliveTimeout: number;
  pingInterval: number;
  handshakeTimeout: number;
  readLimit: number;
  sendHighWaterMark: number;
  closeTimeout: number;
  headers: Record<string, string>;
  protocols: string[];
  tls: TlsOptions | undefined;
  retry: RetryOptions;
  /** How sockets are opened. */
  transport: Transport;
}

/** What `connect(url, options)` accepts. */
export interface ConnectOptions {
  reconnectDelay?: number;
  minUptime?: number;
  keepaliveTimeout?: number;
  pingInterval?: number;
  handshakeTimeout?: number;
  readLimit?: number;
  sendHighWaterMark?: number;
  closeTimeout?: number;
  headers?: Record<string, string>;
  protocols?: string | string[];
  tls?: TlsOptions;
  retry?: Partial<RetryOptions>;
  /** How sockets are opened: `wsTransport` (the Node default) or `webSocketTransport()` (the web default). */
  transport?: Transport;
}

/** What `createPool(options)` accepts. */
export interface PoolOptions extends ConnectOptions {
  id?: string;
  logger?: Logger;
  inboxSize?: number;
  inboxOverflow?: InboxOverflow;
  eventsSize?: number;
  workerFactory?: WorkerFactory;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Closes the pool when aborted (at once if it already is), as `pool.close()` does. */
  signal?: AbortSignal;
}

/** Options of `pool.ready(id, options)`. */
export interface ReadyOptions {
  /** Gives up with `NotReadyError` (reason `aborted`, the signal's reason as `cause`) when aborted. */
  signal?: AbortSignal;
  /** Gives up with `NotReadyError` (reason `timeout`) after this many ms. Default: wait without limit. */
  timeout?: number;
}

/** What `pool.broadcast(data, filter?)` did, peer by peer. */
export interface BroadcastResult {
  /** The ids of the peers that took the message. */
  sent: string[];
  /** The peers that refused it (not connected, backpressure, a failed write), each with the error `send` would have thrown. */
  refused: Array<{ id: string; error: HoneybeeError }>;
}

/** Pool options after defaults and validation. */
export interface ResolvedPoolOptions {
  id: string;
  logger: Logger;
  inboxSize: number;
  inboxOverflow: InboxOverflow;
  eventsSize: number;
  workerFactory: WorkerFactory | undefined;
  inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
  signal: AbortSignal | undefined;
  connection: ConnectionOptions;
  /** The connection options the user gave the pool, validated: re-applied when a peer brings its own transport. */
  connectInput: Readonly<Record<string, unknown>>;
}

/** Writes received messages into the pool's inbox. */
export interface InboxWriter {
  /**
   * Delivers one message and counts it. Returns `false` when the inbox is full
   * under the `block` policy: the caller should stop reading its socket and
   * call `onDrain` to learn when to resume. The message is kept either way,
   * even past `inboxSize`: prefer `offer` from a writer that can hold it.
   */
  write(id: string, data: string | Uint8Array, receivedAt: number): boolean;
  /**
   * Delivers one message only if the inbox has room. Returns `false` when the
   * inbox is full under the `block` policy: the message was NOT taken nor
   * counted; the caller keeps it, stops reading its socket, and offers it
   * again (before anything newer) when `onDrain` calls back. Sockets deliver
   * this way, so `inboxSize` bounds the inbox.
   */
  offer(id: string, data: string | Uint8Array, receivedAt: number): boolean;
  /** Calls `resume` once, when the inbox has drained below its low-water mark. */
  onDrain(resume: () => void): void;
  /**
   * Counts frames a writer keeps after a refused `offer`: +1 for each frame it
   * starts to hold, −1 for each held frame the inbox later takes. Optional.
   */
  noteHeld?(delta: number): void;
}

/** Writes lifecycle events into the pool's events stream (and the pool actor). */
export interface EventWriter {
  write(event: PoolEvent): void;
}

/** What the pool gives a worker when it starts it. */
export interface PoolPlugin {
  readonly poolId: string;
  readonly inbox: InboxWriter;
  readonly events: EventWriter;
  /** How this peer's sockets are opened (also `options.transport`). */
  readonly transport: Transport;
  readonly options: ConnectionOptions;
  readonly logger: Logger;
  /**
   * The pool actor. A worker that runs XState actors creates them with
   * `createActor(logic, { parent: plugin.host, id })` — the id being the
   * peer id without credentials — so they sit in the pool's actor tree and
   * share its system, clock and inspector. Such an actor's failure is
   * reported as the pool's `peer.crashed`; its end is not awaited for it:
   * the pool waits on `start()`.
   */
  readonly host: AnyActorRef;
}

/** Per-worker counters. Every counter is monotonic across reconnects. */
export interface WorkerStats {
  /** `dialing`, `connected`, `backoff`, `closing`, `stopped`, or a custom worker's own name. */
  state: string;
  connected: boolean;
  connectedSince: number | undefined;
  attempt: number;
  received: number;
  sent: number;
  bytesIn: number;
  bytesOut: number;
  restarts: number;
  dialFailures: number;
  lastError: string | undefined;
  lastMessageAt: number | undefined;
  bufferedAmount: number;
  paused: boolean;
}

/** A worker's stats plus what the pool counts for it. */
export interface PeerStats extends WorkerStats {
  id: string;
  /** Messages of this peer dropped by the inbox overflow policy. */
  drops: number;
}

/** A snapshot of the whole pool. */
export interface PoolStats {
  peerCount: number;
  inboxDepth: number;
  eventsDepth: number;
  totalReceived: number;
  /**
   * Frames read from sockets that wait in their peer's link for room in the
   * inbox (under `block`, in order; they count in `totalReceived` once taken).
   * A single pool reports it; a sharded pool leaves it out.
   */
  inboxHeld?: number;
  totalSent: number;
  inboxDropped: number;
  eventsDropped: number;
  peers: PeerStats[];
}

/** The worker extension contract (spec §2.1). */
export interface Worker {
  /** Runs the worker; settles only when it is completely finished. */
  start(plugin: PoolPlugin): Promise<void>;
  /** Makes `start()` settle in bounded time. Idempotent; callable any time. */
  stop(): void;
  /** Sends one message; throws a HoneybeeError if it cannot. */
  send(data: string | Uint8Array | ArrayBuffer): void;
  /** A synchronous snapshot; never throws, never waits. */
  stats(): WorkerStats;
  /** Optional: drops the connection (if any) and redials now. `pool.reconnect(id)` needs it. */
  reconnect?(): void;
}

/** Creates one worker per peer. Must be synchronous and must not call the pool. */
export type WorkerFactory = (ctx: { signal: AbortSignal }, id: string, logger: Logger) => Worker;

// The pool is `AsyncDisposable` (`await using pool = createPool()`). These are
// the declarations TypeScript 5.2's `esnext.disposable` lib (and @types/node)
// has; repeating them lets the public types compile in an app whose `lib` and
// `types` have neither (a browser app on ES2022, say). Identical declarations merge.
declare global {
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
  interface AsyncDisposable {
    [Symbol.asyncDispose](): PromiseLike<void>;
  }
}
