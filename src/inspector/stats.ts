import { redactUrl } from '../normalize-url.ts';
import type { PeerStats, PoolStats } from '../types.ts';
import type { PeerNamer } from './peer-name.ts';
import type { WirePeerStats, WireStats } from './wire.ts';

/** What the inspector needs from a pool to show its counters; a `Pool` fits. */
export interface WatchablePool {
  readonly id: string;
  stats(): PoolStats;
  /** When present, watching ends by itself once the pool actor has finished. */
  readonly actor?: { getSnapshot(): { status: string } };
}

/** Peer rows whose only change is traffic (received, sent) sent per second, taking turns. */
export const TRAFFIC_ROWS_PER_SECOND = 250;

/**
 * One peer's row. `lastError` is left out: the page says why a peer is down
 * from its lifecycle events, and an error text could quote more than it should.
 */
function rowOf(peer: PeerStats, name: PeerNamer): WirePeerStats {
  return [
    name(peer.id),
    String(peer.state).slice(0, 40),
    peer.received,
    peer.sent,
    peer.restarts,
    peer.dialFailures,
    peer.drops,
    peer.attempt,
    peer.connectedSince ?? null,
    peer.paused ? 1 : 0
  ];
}

function totalsOf(pool: WatchablePool, stats: PoolStats, now: number, full: boolean, peers: WirePeerStats[], pausedSockets: number): WireStats {
  const { peers: _all, ...totals } = stats;
  return { ...totals, type: '@honeybee.stats', poolId: redactUrl(pool.id), at: now, pausedSockets, full, peers };
}

/** Every peer's counters: what a newly opened page gets. */
export function summarizePool(pool: WatchablePool, name: PeerNamer = redactUrl, now = Date.now()): WireStats {
  return summarizeStats(pool, pool.stats(), name, now);
}

function summarizeStats(pool: WatchablePool, stats: PoolStats, name: PeerNamer, now: number): WireStats {
  let paused = 0;
  const peers = stats.peers.map((peer) => {
    if (peer.paused) paused += 1;
    return rowOf(peer, name);
  });
  return totalsOf(pool, stats, now, true, peers, paused);
}

// A row differs in more than traffic (received, sent: cells 2 and 3).
function changedBeyondTraffic(before: WirePeerStats, after: WirePeerStats): boolean {
  for (let i = 0; i < after.length; i++) if (i !== 2 && i !== 3 && before[i] !== after[i]) return true;
  return false;
}

/**
 * Turns a watched pool's counters into deltas for the pages that are open:
 * every peer whose state, restarts, failures, drops, attempt, connected-since
 * or paused changed since it was last sent, and at most `trafficBudget` of the
 * peers whose only change is traffic, those sent longest ago first.
 */
export class StatsDeltas {
  readonly #pool: WatchablePool;
  readonly #name: PeerNamer;
  readonly #sent = new Map<string, { row: WirePeerStats; tick: number }>();
  #tick = 0;

  constructor(pool: WatchablePool, name: PeerNamer) {
    this.#pool = pool;
    this.#name = name;
  }

  /**
   * Every peer's counters, for a page that opens. Before the first delta they
   * also become what the deltas start from (so the first delta is not every peer
   * again); after it, deltas stay relative to what the pages already open got.
   */
  full(now = Date.now()): WireStats | undefined {
    let stats: PoolStats;
    try {
      stats = this.#pool.stats();
    } catch {
      return undefined;
    }
    const message = summarizeStats(this.#pool, stats, this.#name, now);
    if (this.#tick === 0) stats.peers.forEach((peer, i) => this.#sent.set(peer.id, { row: message.peers[i] as WirePeerStats, tick: 0 }));
    return message;
  }

  /** The pool's totals and the peer rows to send now; `undefined` if `stats()` threw. */
  next(trafficBudget: number, now = Date.now()): { message: WireStats; peerCount: number } | undefined {
    let stats: PoolStats;
    try {
      stats = this.#pool.stats();
    } catch {
      // stats() is documented never to throw; a custom pool-like object might.
      return undefined;
    }
    const tick = ++this.#tick;
    const changed: WirePeerStats[] = [];
    const trafficOnly: Array<{ id: string; row: WirePeerStats; tick: number }> = [];
    let paused = 0;
    for (const peer of stats.peers) {
      if (peer.paused) paused += 1;
      const row = rowOf(peer, this.#name);
      const before = this.#sent.get(peer.id);
      if (before === undefined || changedBeyondTraffic(before.row, row)) {
        changed.push(row);
        this.#sent.set(peer.id, { row, tick });
      } else if (before.row[2] !== row[2] || before.row[3] !== row[3]) {
        trafficOnly.push({ id: peer.id, row, tick: before.tick });
      } else {
        before.tick = tick; // unchanged counts as fresh: it need not take a turn
      }
    }
    trafficOnly.sort((a, b) => a.tick - b.tick);
    for (const { id, row } of trafficOnly.slice(0, trafficBudget)) {
      changed.push(row);
      this.#sent.set(id, { row, tick });
    }
    if (this.#sent.size > stats.peers.length) {
      // Forget removed peers.
      const present = new Set(stats.peers.map((peer) => peer.id));
      for (const id of this.#sent.keys()) if (!present.has(id)) this.#sent.delete(id);
    }
    return { message: totalsOf(this.#pool, stats, now, false, changed, paused), peerCount: stats.peers.length };
  }
}
