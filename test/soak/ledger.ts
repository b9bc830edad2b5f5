/**
 * Accounts for numbered messages per connection: each connection's messages
 * must arrive as 0, 1, 2, … with nothing missing, repeated or reordered.
 * Messages written just before a connection died may never arrive (they were
 * in flight); only a hole *inside* what did arrive is a loss.
 */
export interface LedgerSummary {
  connections: number;
  delivered: number;
  /** Numbers missing between 0 and the highest number delivered, over all connections. */
  gaps: number;
  /** Numbers delivered again or after a higher one. */
  disorder: number;
}

interface Track {
  next: number;
  delivered: number;
  gaps: number;
  disorder: number;
}

export class SequenceLedger {
  readonly #tracks = new Map<number, Track>();

  /** Records that `seq` arrived on connection `conn`. */
  record(conn: number, seq: number): void {
    let track = this.#tracks.get(conn);
    if (track === undefined) {
      track = { next: 0, delivered: 0, gaps: 0, disorder: 0 };
      this.#tracks.set(conn, track);
    }
    track.delivered += 1;
    if (seq === track.next) track.next += 1;
    else if (seq > track.next) {
      track.gaps += seq - track.next;
      track.next = seq + 1;
    } else track.disorder += 1;
  }

  /** Messages delivered on `conn`, and the highest number seen plus one. */
  of(conn: number): { delivered: number; next: number; gaps: number; disorder: number } | undefined {
    const track = this.#tracks.get(conn);
    return track === undefined ? undefined : { ...track };
  }

  connections(): number[] {
    return [...this.#tracks.keys()];
  }

  summary(): LedgerSummary {
    const summary: LedgerSummary = { connections: this.#tracks.size, delivered: 0, gaps: 0, disorder: 0 };
    for (const track of this.#tracks.values()) {
      summary.delivered += track.delivered;
      summary.gaps += track.gaps;
      summary.disorder += track.disorder;
    }
    return summary;
  }
}
