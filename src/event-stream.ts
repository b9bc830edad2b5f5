import { AsyncQueue } from './async-queue.ts';
import { SecondReaderError } from './errors.ts';
import type { EventWriter, PoolEvent, PoolEvents } from './types.ts';

/** Options of an {@link EventStream}. */
export interface EventStreamOptions {
  /** How many events the stream holds before it starts evicting the oldest. */
  capacity: number;
}

/**
 * The pool's bounded stream of lifecycle events.
 *
 * A write never blocks and never fails: when the stream is full the oldest
 * buffered event makes room and is counted in `dropped`, so a consumer that
 * never reads events cannot stall a worker or `close()`.
 *
 * @example
 * ```ts
 * const events = new EventStream({ capacity: 1024 });
 * events.write({ kind: 'connected', id: 'wss://relay.example', at: Date.now() });
 * for await (const event of events) console.log(event.kind, event.id);
 * ```
 */
export class EventStream implements EventWriter, PoolEvents {
  readonly #capacity: number;
  readonly #queue = new AsyncQueue<PoolEvent>({ secondReader: () => new SecondReaderError('pool.events') });
  #dropped = 0;

  /** Creates an empty stream; throws a `RangeError` if `capacity` is not a positive integer. */
  constructor(options: EventStreamOptions) {
    const { capacity } = options;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Expected events capacity to be a positive integer, got ${String(capacity)}`);
    }
    this.#capacity = capacity;
  }

  /** The number of buffered events; never above the capacity. */
  get depth(): number {
    return this.#queue.size;
  }

  /** Events evicted because the stream was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether {@link EventStream.end} has been called. */
  get ended(): boolean {
    return this.#queue.ended;
  }

  /** Appends an event, evicting the oldest one when full. Ignored after `end()`. */
  write(event: PoolEvent): void {
    const queue = this.#queue;
    if (queue.ended) return;
    if (queue.size >= this.#capacity) {
      queue.evict();
      this.#dropped++;
    }
    queue.push(event);
  }

  /** Takes the oldest event synchronously, or returns `undefined` when empty. */
  shift(): PoolEvent | undefined {
    return this.#queue.shift();
  }

  /** Takes up to `max` of the oldest events synchronously (all by default), oldest first; `[]` when empty. */
  drain(max?: number): PoolEvent[] {
    return this.#queue.drain(max);
  }

  /** Accepts no more events; readers receive what is buffered, then finish. */
  end(): void {
    this.#queue.end();
  }

  /**
   * Returns a fresh iterator; breaking out of it keeps the rest buffered.
   * @throws SecondReaderError while another iterator is still open.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<PoolEvent, undefined, undefined> {
    return this.#queue[Symbol.asyncIterator]();
  }
}
