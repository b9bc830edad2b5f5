/**
 * React bindings for a pool: `usePoolStats`, `usePeers` and `usePeer`, built
 * on `useSyncExternalStore`. React (18 or later) is an optional peer
 * dependency of `honeybee-pool`: only this entry imports it.
 *
 * Each hook re-renders at once on a lifecycle change (a peer connected,
 * disconnected, failed a dial, retired, was added or removed) and, for the
 * message counters, which move without events, at most every `throttle` ms
 * (default 1000). Hooks reading the same pool with the same options share one
 * subscription. A `ShardedPool` works too: it has no pool actor, so it is
 * polled every `poll` ms (default 250).
 *
 * @example
 * ```tsx
 * import { createPool } from 'honeybee-pool';
 * import { usePeers, usePoolStats } from 'honeybee-pool/react';
 *
 * const pool = createPool();
 * pool.connect('wss://relay.example.com/');
 *
 * function PeerTable() {
 *   const peers = usePeers(pool, { throttle: 500 });
 *   const { totalReceived } = usePoolStats(pool);
 *   return <p>{peers.filter((p) => p.connected).length} connected, {totalReceived} messages</p>;
 * }
 * ```
 * @module
 */
import { useCallback, useSyncExternalStore } from 'react';
import type { PeerStats, PoolStats } from '../types.ts';
import { storeOf, type PoolHookOptions, type PoolLike } from './store.ts';

export type { PoolHookOptions, PoolLike } from './store.ts';

/** The pool's `stats()`, kept current: a new object only when something in it changed. */
export function usePoolStats(pool: PoolLike, options?: PoolHookOptions): PoolStats {
  const store = storeOf(pool, options);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** Every peer's stats (`stats().peers`), kept current; the array changes only when a row did. */
export function usePeers(pool: PoolLike, options?: PoolHookOptions): readonly PeerStats[] {
  const store = storeOf(pool, options);
  const peers = useCallback(() => store.getSnapshot().peers, [store]);
  return useSyncExternalStore(store.subscribe, peers, peers);
}

/**
 * One peer's stats, or `undefined` while the pool does not have it (never
 * connected, removed, retired). Re-renders only when this peer's row changes.
 * `id` is the peer id `connect` returned.
 */
export function usePeer(pool: PoolLike, id: string, options?: PoolHookOptions): PeerStats | undefined {
  const store = storeOf(pool, options);
  const peer = useCallback(() => store.getSnapshot().peers.find((row) => row.id === id), [store, id]);
  return useSyncExternalStore(store.subscribe, peer, peer);
}
