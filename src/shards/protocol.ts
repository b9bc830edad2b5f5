/**
 * What crosses the boundary between a sharded pool and its threads. The main
 * thread posts arrays of {@link ShardCommand}s (one post per microtask, not
 * one per command); a thread posts {@link ShardReport}s, inbox messages and
 * events in batches.
 */
import type { FailedBatchFate } from '../errors.ts';
import type { WireError } from './wire-error.ts';
import type { ConnectOptions, PoolEvent, PoolOptions, PoolStats } from '../types.ts';

/** Pool options that survive a structured clone: no functions, no logger. */
export type ThreadPoolOptions = Omit<PoolOptions, 'logger' | 'workerFactory' | 'transport' | 'inspect' | 'signal'>;

/** Per-peer options that survive a structured clone. */
export type ThreadConnectOptions = Omit<ConnectOptions, 'transport'>;

/** What a thread is started with (its `workerData`). */
export interface ThreadInit {
  readonly shard: string;
  readonly pool: ThreadPoolOptions;
  /** Largest inbox batch per post. */
  readonly maxBatch: number;
  /** Inbox batches posted and not yet acknowledged, at most. */
  readonly window: number;
  /** How often the thread posts its stats, ms. */
  readonly statsInterval: number;
  /** The href of the shard module the thread imports before it starts its pool. */
  readonly module?: string;
}

/**
 * Inbox messages packed by column: no per-message object and no repeated
 * property names or peer ids to clone, only one string (or byte array) per
 * frame and two typed arrays. Message `i` is
 * `{ id: ids[peer[i]], data: data[i], receivedAt: receivedAt[i] }`.
 */
export interface PackedBatch {
  /** The batch's distinct peer ids. */
  readonly ids: string[];
  /** Per message, its peer's index in `ids`. */
  readonly peer: Uint32Array;
  readonly receivedAt: Float64Array;
  readonly data: Array<string | Uint8Array>;
}

/**
 * Frames as they came off the sockets, undecoded: every frame's bytes one
 * after the other in `bytes` (transferred, not copied), frame `i` from
 * `ends[i - 1]` (0 for the first) to `ends[i]`, text unless `binary[i]` is 1.
 * The main thread decodes the text frames, so the thread (the busier side on
 * a firehose) neither decodes nor copies a string per frame, and hands the
 * buffer back with its `ack` (a fresh buffer of this size per batch costs
 * more than the copy into it).
 */
export interface FrameBatch {
  readonly ids: string[];
  readonly peer: Uint32Array;
  readonly receivedAt: Float64Array;
  readonly ends: Uint32Array;
  readonly binary: Uint8Array;
  readonly bytes: ArrayBuffer;
}

/** A line the shard module's `context.logger` wrote, on its way to the main thread's logger. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: unknown;
  readonly message: string | undefined;
}

/** A command for a thread's pool. */
export type ShardCommand =
  | { readonly op: 'connect'; readonly url: string; readonly options: ThreadConnectOptions | undefined }
  /** `ticket` asks for a verdict (`sendAsync`): the thread answers in a `verdicts` report. */
  | { readonly op: 'send'; readonly id: string; readonly data: string | Uint8Array | ArrayBuffer; readonly ticket?: number }
  | { readonly op: 'remove'; readonly id: string }
  | { readonly op: 'reconnect'; readonly id: string }
  /** One inbox batch has been taken in: the thread may post another. */
  /** `buffer`: a frame batch's buffer, handed back (transferred) for the thread to pack into again. */
  | { readonly op: 'ack'; readonly buffer?: ArrayBuffer }
  | { readonly op: 'close' };

/** A command the thread's pool refused (the main thread checked what it could; the race is the rest). */
export interface CommandFailure {
  readonly op: 'connect' | 'send' | 'reconnect';
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

/** What a thread posts back. */
export type ShardReport =
  | { readonly type: 'ready' }
  /** What the shard module's `process` made of a batch, as it crosses. */
  | { readonly type: 'inbox'; readonly messages: unknown[] }
  /** A batch of inbox messages as it crosses, column by column (see {@link PackedBatch}). */
  | ({ readonly type: 'packed' } & PackedBatch)
  /** A batch of undecoded frames in one transferred buffer (see {@link FrameBatch}). */
  | ({ readonly type: 'frames' } & FrameBatch)
  /** The shard module's `process` failed on a batch of `messages` messages. */
  | { readonly type: 'process-error'; readonly messages: number; readonly fate: FailedBatchFate; readonly reason: string }
  | { readonly type: 'log'; readonly lines: LogLine[] }
  /** The fate of ticketed sends: taken by the socket, or refused with the error `Pool.send` threw. */
  | { readonly type: 'verdicts'; readonly ok: number[]; readonly failed: Array<{ readonly ticket: number; readonly error: WireError }> }
  /** The shard module could not be loaded: the thread ends without starting a pool. */
  | { readonly type: 'module-failed'; readonly module: string; readonly message: string }
  | { readonly type: 'events'; readonly events: PoolEvent[] }
  /** A removed peer's worker has finished (its final events were posted before this). */
  | { readonly type: 'removed'; readonly id: string }
  | { readonly type: 'stats'; readonly stats: PoolStats; readonly failures: CommandFailure[] }
  | { readonly type: 'closed'; readonly stats: PoolStats; readonly failures: CommandFailure[] };
