import type { PoolEvent } from '../../src/types.ts';

/** The event of one kind. */
export type EventOf<K extends PoolEvent['kind']> = Extract<PoolEvent, { kind: K }>;

/** Reads a pool's events stream into a list and lets a test wait for the one it needs. */
export class EventLog {
  readonly items: PoolEvent[] = [];
  /** Resolves when the stream ends (after `pool.close()`). */
  readonly done: Promise<void>;
  readonly #listeners = new Set<() => void>();

  constructor(source: AsyncIterable<PoolEvent>) {
    this.done = (async () => {
      for await (const event of source) {
        this.items.push(event);
        for (const listener of [...this.#listeners]) listener();
      }
    })();
  }

  /** The kinds of every event so far, optionally of one peer. */
  kinds(id?: string): string[] {
    return this.items.filter((e) => id === undefined || e.id === id).map((e) => e.kind);
  }

  /** Every event of `kind` so far, optionally of one peer. */
  all<K extends PoolEvent['kind']>(kind: K, id?: string): Array<EventOf<K>> {
    return this.items.filter((e): e is EventOf<K> => e.kind === kind && (id === undefined || e.id === id));
  }

  /** Resolves with the `n`th (1-based) event of `kind`, waiting for it if needed. */
  nth<K extends PoolEvent['kind']>(kind: K, n: number, id?: string, timeout = 5000): Promise<EventOf<K>> {
    return this.until(() => this.all(kind, id)[n - 1], timeout, `${kind} #${n}`);
  }

  /** Resolves with what `find` returns once it is defined; rejects after `timeout` ms. */
  until<T>(find: () => T | undefined, timeout: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        finish();
        resolve(found);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeout} ms; events so far: [${this.kinds().join(', ')}]`));
      }, timeout);
      this.#listeners.add(check);
      check();
    });
  }
}
