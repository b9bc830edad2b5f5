/**
 * Accounts for numbered messages per connection: each connection's messages
 * must arrive as 0, 1, 2, … with nothing missing, repeated or reordered.
 * Messages written just before a connection died may never arrive (they were
 * in flight); only a hole *inside* what did arrive is a loss.
 *
 * Connection numbers are small dense integers (1, 2, 3, … as servers accept),
 * so state lives in growable typed arrays: a few bytes per connection, off
 * the JS heap, so a long soak's own bookkeeping does not look like a leak.
 */
export interface LedgerSummary {
  connections: number;
  delivered: number;
  /** Numbers missing between 0 and the highest number delivered, over all connections. */
  gaps: number;
  /** Numbers delivered again or after a higher one. */
  disorder: number;
}

/** An Int32Array indexed by a dense non-negative integer, growing on write; unset slots read as `fill`. */
export class DenseInts {
  #values: Int32Array;

  constructor(readonly fill = 0) {
    this.#values = new Int32Array(1024).fill(fill);
  }

  get(index: number): number {
    return index < this.#values.length ? (this.#values[index] as number) : this.fill;
  }

  set(index: number, value: number): void {
    if (index >= this.#values.length) {
      const grown = new Int32Array(Math.max(index + 1, this.#values.length * 2)).fill(this.fill);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[index] = value;
  }

  get length(): number {
    return this.#values.length;
  }
}

export class SequenceLedger {
  readonly #next = new DenseInts();
  readonly #delivered = new DenseInts();
  readonly #summary: LedgerSummary = { connections: 0, delivered: 0, gaps: 0, disorder: 0 };

  /** Records that `seq` arrived on connection `conn` (a non-negative integer). */
  record(conn: number, seq: number): void {
    const delivered = this.#delivered.get(conn);
    if (delivered === 0) this.#summary.connections += 1;
    this.#delivered.set(conn, delivered + 1);
    this.#summary.delivered += 1;
    const next = this.#next.get(conn);
    if (seq === next) this.#next.set(conn, next + 1);
    else if (seq > next) {
      this.#summary.gaps += seq - next;
      this.#next.set(conn, seq + 1);
    } else this.#summary.disorder += 1;
  }

  /** Messages delivered on `conn`, and the highest number seen plus one; undefined if none arrived. */
  of(conn: number): { delivered: number; next: number } | undefined {
    const delivered = this.#delivered.get(conn);
    return delivered === 0 ? undefined : { delivered, next: this.#next.get(conn) };
  }

  /** Every connection something arrived on. */
  connections(): number[] {
    const list: number[] = [];
    for (let conn = 0; conn < this.#delivered.length; conn++) if (this.#delivered.get(conn) > 0) list.push(conn);
    return list;
  }

  summary(): LedgerSummary {
    return { ...this.#summary };
  }
}
