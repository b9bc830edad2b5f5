import type { Worker } from 'node:worker_threads';
import type { LocalPool } from '../pool-api.ts';
import type { BroadcastResult, InboxMessage, PoolEvents, PoolInbox, PoolStats } from '../types.ts';
import type { ThreadConnectOptions } from './protocol.ts';

/** One shard thread as `stats()` reports it. */
export interface ShardStats {
  readonly shard: string;
  /** Peers assigned to this shard. */
  readonly peerCount: number;
  /** Whether the thread is running (false while it is being respawned). */
  readonly alive: boolean;
  /** How many times the thread died and was started again. */
  readonly restarts: number;
}

/** A sharded pool's stats: the pool totals plus one row per shard thread. */
export interface ShardedPoolStats extends PoolStats {
  readonly shards: ShardStats[];
  /** Commands a thread refused after the main thread had accepted them (a peer that dropped in between). */
  readonly commandFailures: number;
  /** Batches on which a shard module's `process` failed (each a `ShardProcessError`). */
  readonly processErrors: number;
  /** Inbox messages dropped with those batches (`failedBatch: 'drop'`, the default). */
  readonly processDropped: number;
}

/**
 * A pool whose peers live on `shards` worker threads, behind the calls of
 * `Pool` (the shared `LocalPool`; everything but `actor`: each thread has its
 * own pool actor). Peer-to-thread assignment is rendezvous hashing over the
 * shard ids. `stats()` and `peerStats()` are at most `statsInterval` ms old.
 */
export interface ShardedPool<T = InboxMessage> extends Omit<LocalPool<ThreadConnectOptions, ShardedPoolStats>, 'inbox'> {
  /**
   * Every thread's inbox, merged; batches cross the thread boundary whole.
   * Single consumer. With a shard module's `process`, it holds what `process`
   * returned (`T`) instead of the messages (a `ShardedPool<InboxMessage>`, the
   * default, is a `LocalPool`).
   */
  readonly inbox: PoolInbox<T>;
  /** Every thread's lifecycle events, merged. Single consumer; bounded, drops oldest. */
  readonly events: PoolEvents;
  /** The shard ids, `t0` … `t<n-1>`. */
  readonly shardIds: readonly string[];
  /**
   * Sends through the owning thread. Throws what `Pool.send` throws when it can
   * tell here (unknown peer, not connected, bad payload); a refusal inside the
   * thread (the peer dropped meanwhile, backpressure) is counted in `commandFailures` and logged.
   */
  send(id: string, data: string | Uint8Array | ArrayBuffer): void;
  /**
   * Sends through the owning thread and settles with the send's fate there:
   * resolves once the thread's pool took the frame (as `Pool.send` returning),
   * rejects with the error `Pool.send` would have thrown (`ConnectionUnavailableError`,
   * `BackpressureError`, `WriteFailedError`, … with the same `code` and fields),
   * whether the main thread or the thread refused it. A send in flight when its
   * thread dies rejects with `ConnectionUnavailableError`; one the pool's `close()`
   * overtakes, with `PoolClosedError`. Never throws.
   */
  sendAsync(id: string, data: string | Uint8Array | ArrayBuffer): Promise<void>;
  /** Sends to every connected peer (or those `filter` accepts); `refused` lists the peers not connected. */
  broadcast(data: string | Uint8Array | ArrayBuffer, filter?: (id: string) => boolean): BroadcastResult;
  /** Stops the peer and forgets it at once; resolves when its thread reports the worker finished. */
  remove(id: string): Promise<void>;
  /** Resolves once every thread has started. Commands given earlier are queued, not lost. */
  started(): Promise<void>;
  /** The shard that owns a peer id. */
  shardOf(id: string): string;
  /** The running thread of a shard (undefined while it is respawned). */
  thread(shard: string): Worker | undefined;
}
