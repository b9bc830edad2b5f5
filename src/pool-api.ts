import type { Actor } from 'xstate';
import type { poolMachine } from '../machines/pool-machine.ts';
import type { BroadcastResult, ConnectOptions, InboxMessage, PeerStats, PoolEvent, PoolEvents, PoolInbox, PoolStats, ReadyOptions } from './types.ts';

/**
 * What every pool shape shares: `Pool` (one thread), `ShardedPool` (worker
 * threads of one process, `honeybee-pool/shards`) and `ClusterClient`
 * (processes coordinated by NATS, `honeybee-pool/nats`). Code written against
 * it reads any of them.
 *
 * Where they differ:
 * - `ClusterClient`'s messages and events carry `shard`, `epoch` and `seq`;
 *   its inbox is a durable consumer that processes with the same consumer
 *   name share, not a single in-process reader.
 * - `remove` resolves when the worker has finished on `Pool` and
 *   `ShardedPool`; on `ClusterClient`, when the peer has left the desired set
 *   (its owning shard stops it after).
 * - `close` stops every peer on `Pool` and `ShardedPool`; on `ClusterClient`
 *   it stops reading, and the peers run on in their shards.
 */
export interface PoolShape<TMessage extends InboxMessage = InboxMessage, TEvent extends PoolEvent = PoolEvent> {
  /** Received messages of every peer, tagged with the peer id: `for await`, or `batches(max)` for hot consumers. */
  readonly inbox: AsyncIterable<TMessage> & { batches(max?: number): AsyncIterable<TMessage[]> };
  /** Lifecycle events of every peer. */
  readonly events: AsyncIterable<TEvent>;
  /** The registered peer ids. */
  peers(): string[];
  /** Stops the peer and forgets it (its id can be connected again). */
  remove(id: string): Promise<void>;
  /** Releases what this handle holds; idempotent. */
  close(): Promise<void>;
}

/**
 * A pool whose registry lives in this process: `Pool`, and `ShardedPool`
 * (which keeps the registry on the main thread and the peers on worker
 * threads). Every call but `ready`, `remove` and `close` answers
 * synchronously, from the registry. `ClusterClient` is not one: its registry
 * is a NATS bucket, so its `connect` and `send` are async.
 *
 * Where `Pool` and `ShardedPool` differ:
 * - only `Pool` has the XState `actor` (each shard thread has its own);
 * - `ShardedPool.connect` takes `ThreadConnectOptions` (no `transport`: a
 *   transport cannot cross a thread boundary);
 * - `ShardedPool.send` throws what it can tell on the main thread; a refusal
 *   inside the thread is counted in `stats().commandFailures` and logged;
 * - `ShardedPool.stats()` and `peerStats()` are at most `statsInterval` ms old.
 */
export interface LocalPool<TConnectOptions = ConnectOptions, TStats extends PoolStats = PoolStats> extends PoolShape<InboxMessage, PoolEvent>, AsyncDisposable {
  /** The pool id (`options.id`). */
  readonly id: string;
  /** Received messages of every peer, tagged with the peer id: `for await`, or batches for hot consumers. Single consumer. */
  readonly inbox: PoolInbox;
  /** Lifecycle events of every peer: `for await`, or `shift()`/`drain()`. Single consumer; bounded, drops oldest. */
  readonly events: PoolEvents;
  /** Registers a peer and starts dialing it; returns its id (the normalized URL). */
  connect(url: string, options?: TConnectOptions): string;
  /** Sends one message to a connected peer; throws a typed error if it cannot. */
  send(id: string, data: string | Uint8Array | ArrayBuffer): void;
  /**
   * Sends one message to every connected peer (or those `filter` accepts), never
   * throwing half-way: the result says who took it and who refused, and why.
   * @throws InvalidPayloadError / PoolClosedError before sending anything.
   */
  broadcast(data: string | Uint8Array | ArrayBuffer, filter?: (id: string) => boolean): BroadcastResult;
  /**
   * Resolves when the peer is connected: at once if it is, else on its next
   * `connected`. Rejects with `NotReadyError` when it retires, is removed, the
   * pool closes, `timeout` runs out or `signal` aborts; with `PeerNotFoundError`
   * for an unknown id.
   */
  ready(id: string, options?: ReadyOptions): Promise<void>;
  /** Drops the peer's connection (if any) and redials now, also out of backoff. */
  reconnect(id: string): void;
  /**
   * Stops the peer and forgets it at once (its id can be connected again); the
   * promise resolves when its worker has finished, final `disconnected` delivered.
   * @throws PeerNotFoundError (synchronously) for an unknown id.
   */
  remove(id: string): Promise<void>;
  /** Stops every peer; resolves when all have finished. Idempotent. */
  close(): Promise<void>;
  stats(): TStats;
  peerStats(id: string): PeerStats;
}

/** The pool façade returned by `createPool` (from `honeybee-pool`, `/node` or `/web`). */
export interface Pool extends LocalPool {
  /**
   * The XState pool actor: `subscribe`, `getSnapshot`, `on('connected', …)`, `system.inspect`.
   * `actor.system.get(id)` is the worker actor of peer `id` (as `connect()` returned it) while it
   * runs, for workers that are actors (the default worker and `workerFromMachine`).
   */
  readonly actor: Actor<typeof poolMachine>;
}
