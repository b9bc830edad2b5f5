import { redactUrl } from '../normalize-url.ts';
import type { PoolStats } from '../types.ts';
import type { WirePeerStats, WireStats } from './wire.ts';

/** What the inspector needs from a pool to show its counters; a `Pool` fits. */
export interface WatchablePool {
  readonly id: string;
  stats(): PoolStats;
  /** When present, watching ends by itself once the pool actor has finished. */
  readonly actor?: { getSnapshot(): { status: string } };
}

/**
 * Summarises `pool.stats()` for the page: per-peer counters with redacted ids,
 * inbox depth and paused sockets (the page counts peers by state from the live actors). `lastError` is left out: an
 * error text is not needed on the page and could quote more than it should.
 */
export function summarizePool(pool: WatchablePool, now = Date.now()): WireStats {
  const stats = pool.stats();
  let pausedSockets = 0;
  const peers: WirePeerStats[] = stats.peers.map((peer) => {
    if (peer.paused) pausedSockets += 1;
    return {
      id: redactUrl(peer.id),
      state: String(peer.state).slice(0, 40),
      received: peer.received,
      sent: peer.sent,
      restarts: peer.restarts,
      dialFailures: peer.dialFailures,
      drops: peer.drops,
      attempt: peer.attempt,
      connectedSince: peer.connectedSince ?? null,
      paused: peer.paused
    };
  });
  return { ...stats, type: '@honeybee.stats', poolId: redactUrl(pool.id), at: now, pausedSockets, peers };
}
