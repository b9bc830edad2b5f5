import type { PeerStats, PoolStats } from '../types.ts';

/** Something to unsubscribe from. */
interface Subscription {
  unsubscribe(): void;
}

/**
 * What the hooks read: a `Pool` (its `stats()`, and its `actor` to hear
 * lifecycle events at once) or a `ShardedPool` (only `stats()`: it has no
 * pool actor of its own, so the hooks poll it).
 */
export interface PoolLike {
  stats(): PoolStats;
  readonly actor?: {
    on(type: '*', handler: (event: unknown) => void): Subscription;
    subscribe(listener: (snapshot: unknown) => void): Subscription;
  };
}

/** How the hooks refresh. */
export interface PoolHookOptions {
  /**
   * The least time between two re-renders for message counters (`received`,
   * `sent`, bytes, inbox depth): they move without events, so they are read
   * at most this often. `0` re-reads them only on lifecycle changes.
   * Lifecycle changes (`connected`, `disconnected`, `dial_failed`, `retired`,
   * a peer added or removed) re-render at once whatever this is.
   * @default 1000
   */
  throttle?: number;
  /**
   * How often a pool without an actor (a `ShardedPool`) is polled for
   * lifecycle changes; its stats are themselves up to `statsInterval` old.
   * @default 250
   */
  poll?: number;
}

const DEFAULT_THROTTLE = 1000;
const DEFAULT_POLL = 250;

/** The fields of a peer's row whose change counts as a lifecycle change. */
function lifecycleKey(stats: PoolStats): string {
  let key = String(stats.peerCount);
  for (const peer of stats.peers) key += `\n${peer.id} ${peer.state} ${peer.restarts} ${peer.dialFailures}`;
  return key;
}

function samePeer(a: PeerStats, b: PeerStats): boolean {
  for (const key of Object.keys(a) as Array<keyof PeerStats>) if (a[key] !== b[key]) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

function samePool(a: PoolStats, b: PoolStats): boolean {
  if (a.peers !== b.peers) return false;
  for (const key of Object.keys(a) as Array<keyof PoolStats>) if (key !== 'peers' && a[key] !== b[key]) return false;
  return true;
}

/**
 * One pool's stats as an external store for `useSyncExternalStore`: a stable
 * snapshot that changes only when something in it did. Unchanged peer rows
 * keep their object, so `usePeer` re-renders only for its own peer.
 */
export class PoolStore {
  #snapshot: PoolStats | undefined = undefined;
  #rows = new Map<string, PeerStats>();
  #listeners = new Set<() => void>();
  #stop: (() => void) | undefined = undefined;
  #lastCounters = 0;
  #pending = false;
  readonly #throttle: number;
  readonly #poll: number;

  constructor(
    readonly pool: PoolLike,
    options: PoolHookOptions
  ) {
    this.#throttle = nonNegative('throttle', options.throttle ?? DEFAULT_THROTTLE);
    this.#poll = nonNegative('poll', options.poll ?? DEFAULT_POLL) || DEFAULT_POLL;
  }

  readonly getSnapshot = (): PoolStats => (this.#snapshot ??= this.#read());

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#halt();
    };
  };

  #start(): void {
    const { actor } = this.pool;
    const stops: Array<() => void> = [];
    if (actor !== undefined) {
      // Lifecycle events, and the actor's own snapshot (a peer registered or a worker ended).
      const events = actor.on('*', this.#soon);
      const snapshots = actor.subscribe(this.#soon);
      stops.push(() => (events.unsubscribe(), snapshots.unsubscribe()));
      if (this.#throttle > 0) {
        const timer = setInterval(() => this.#refresh(false), this.#throttle);
        stops.push(() => clearInterval(timer));
      }
    } else {
      // No actor to listen to: poll, re-render at once on a lifecycle change, else at the throttle.
      let key = lifecycleKey(this.getSnapshot());
      const timer = setInterval(
        () => {
          const next = lifecycleKey(this.pool.stats());
          if (next !== key) {
            key = next;
            this.#refresh(true);
          } else if (this.#throttle > 0 && Date.now() - this.#lastCounters >= this.#throttle) {
            this.#refresh(false);
          }
        },
        Math.min(this.#poll, this.#throttle || this.#poll)
      );
      stops.push(() => clearInterval(timer));
    }
    this.#stop = () => stops.forEach((stop) => stop());
    // What changed while nobody listened.
    this.#refresh(true);
  }

  // A burst of events in one turn (a thousand peers connecting) is one re-read, not one each.
  readonly #soon = (): void => {
    if (this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      if (this.#listeners.size > 0) this.#refresh(true);
    });
  };

  #halt(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  /** Reads the stats again and tells the listeners if anything in them changed. */
  #refresh(lifecycle: boolean): void {
    if (!lifecycle && this.#throttle > 0 && Date.now() - this.#lastCounters < this.#throttle) return;
    const next = this.#read();
    const previous = this.#snapshot;
    if (previous !== undefined && samePool(previous, next)) return;
    this.#snapshot = next;
    this.#lastCounters = Date.now();
    for (const listener of [...this.#listeners]) listener();
  }

  /** The pool's stats, reusing the row object of every peer that did not change. */
  #read(): PoolStats {
    const stats = this.pool.stats();
    const rows = new Map<string, PeerStats>();
    let changed = stats.peers.length !== this.#rows.size;
    const peers = stats.peers.map((peer) => {
      const before = this.#rows.get(peer.id);
      const row = before !== undefined && samePeer(before, peer) ? before : peer;
      if (row !== before) changed = true;
      rows.set(peer.id, row);
      return row;
    });
    this.#rows = rows;
    const previous = this.#snapshot;
    return { ...stats, peers: !changed && previous !== undefined && sameOrder(previous.peers, peers) ? previous.peers : peers };
  }
}

function sameOrder(a: readonly PeerStats[], b: readonly PeerStats[]): boolean {
  return a.length === b.length && a.every((row, i) => row === b[i]);
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`Expected \`${name}\` to be a number of milliseconds ≥ 0, got ${String(value)}`);
  return value;
}

// One store per pool and options, shared by every hook that reads it.
const STORES = new WeakMap<PoolLike, Map<string, PoolStore>>();

/** The shared store of `pool` for these options. */
export function storeOf(pool: PoolLike, options: PoolHookOptions = {}): PoolStore {
  let byOptions = STORES.get(pool);
  if (byOptions === undefined) STORES.set(pool, (byOptions = new Map()));
  const key = `${options.throttle ?? DEFAULT_THROTTLE}/${options.poll ?? DEFAULT_POLL}`;
  let store = byOptions.get(key);
  if (store === undefined) byOptions.set(key, (store = new PoolStore(pool, options)));
  return store;
}
