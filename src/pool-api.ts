import type { Actor } from 'xstate';
import type { poolMachine } from '../machines/pool-machine.ts';
import type {
  BroadcastResult,
  ConnectOptions,
  PeerStats,
  PoolEvents,
  PoolInbox,
  PoolStats,
  ReadyOptions
} from './types.ts';

/** The pool façade returned by `createPool` (from `honeybee-pool`, `/node` or `/web`). */
export interface Pool extends AsyncDisposable {
  /** The pool id (`options.id`). */
  readonly id: string;
  /** Received messages of every peer, tagged with the peer id: `for await`, or batches for hot consumers. Single consumer. */
  readonly inbox: PoolInbox;
  /** Lifecycle events of every peer: `for await`, or `shift()`/`drain()`. Single consumer; bounded, drops oldest. */
  readonly events: PoolEvents;
  /**
   * The XState pool actor: `subscribe`, `getSnapshot`, `on('connected', …)`, `system.inspect`.
   * `actor.system.get(id)` is the worker actor of peer `id` (as `connect()` returned it) while it
   * runs, for workers that are actors (the default worker and `workerFromMachine`).
   */
  readonly actor: Actor<typeof poolMachine>;
  /** Registers a peer and starts dialing it; returns its id (the normalized URL). */
  connect(url: string, options?: ConnectOptions): string;
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
  /** The registered peer ids. */
  peers(): string[];
  stats(): PoolStats;
  peerStats(id: string): PeerStats;
}
