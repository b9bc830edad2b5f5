import type { DisconnectCause, PoolEvent } from '../types.ts';

/** What the demo has counted for one peer from the inbox and the events stream. */
export interface PeerTally {
  readonly name: string;
  /** Messages taken from the inbox. */
  messages: number;
  /** `connected` events; every one after the first is a reconnect. */
  connects: number;
  disconnects: Partial<Record<DisconnectCause, number>>;
  dialFailures: number;
  retired: boolean;
  lastEvent: PoolEvent | undefined;
  /** The thread that parses its frames (`--shards`), once one has. */
  shard?: string;
}

/** A tally with every counter at zero. */
export function createTally(name: string): PeerTally {
  return { name, messages: 0, connects: 0, disconnects: {}, dialFailures: 0, retired: false, lastEvent: undefined };
}

/** Counts one lifecycle event into the peer's tally and remembers it as the last one. */
export function recordEvent(tally: PeerTally, event: PoolEvent): void {
  tally.lastEvent = event;
  switch (event.kind) {
    case 'connected':
      tally.connects += 1;
      break;
    case 'disconnected':
      tally.disconnects[event.cause] = (tally.disconnects[event.cause] ?? 0) + 1;
      break;
    case 'dial_failed':
      tally.dialFailures += 1;
      break;
    case 'retired':
      tally.retired = true;
      break;
  }
}

/** Connections after the first one: the `restarts` of `pool.peerStats(id)`, the RESTARTS column. */
export function restarts(tally: PeerTally): number {
  return Math.max(0, tally.connects - 1);
}

/** All disconnects of the peer, whatever their cause. */
export function disconnectTotal(tally: PeerTally): number {
  return Object.values(tally.disconnects).reduce((sum, n) => sum + n, 0);
}
