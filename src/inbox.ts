import { AsyncQueue } from './async-queue.ts';
import { SecondReaderError } from './errors.ts';
import type { InboxMessage, InboxOverflow, InboxWriter, PoolInbox } from './types.ts';

/** Options of an {@link Inbox}. */
export interface InboxOptions<T = InboxMessage> {
  /** How many messages the inbox holds before its overflow policy applies. */
  capacity: number;
  /** What a write does when the inbox is full. */
  overflow: InboxOverflow;
  /**
   * Called synchronously with each message the overflow policy discards: the
   * new one under `drop-newest`, the evicted oldest one under `drop-oldest`.
   * @default undefined
   */
  onDrop?: (message: T) => void;
}

/**
 * The pool's bounded inbox: workers write received messages into it, the
 * application reads them with `for await`.
 *
 * Under `block` nothing is ever lost and the capacity is a bound: an
 * {@link Inbox.offer} at capacity is refused, and the worker keeps the
 * message, pauses its socket and offers again when `onDrain` calls back.
 * (A {@link Inbox.write} is kept even past capacity, for a writer that cannot
 * hold a message itself.) The `drop-*` policies keep the depth at `capacity`
 * and count every discarded message.
 *
 * Counters satisfy `received = taken + depth + dropped` at all times.
 *
 * @example
 * ```ts
 * const inbox = new Inbox({ capacity: 256, overflow: 'block' });
 * if (!inbox.offer('wss://relay.example', 'hello', Date.now())) {
 *   held.push('hello'); // offered again, first, once the inbox drains
 *   socket.pause();
 *   inbox.onDrain(() => retryHeldThenResume());
 * }
 * for await (const message of inbox) console.log(message.id, message.data);
 * ```
 */
export class Inbox<T = InboxMessage> implements InboxWriter, PoolInbox<T> {
  readonly #capacity: number;
  readonly #lowWater: number;
  readonly #overflow: InboxOverflow;
  readonly #onDrop: ((message: T) => void) | undefined;
  readonly #queue: AsyncQueue<T>;
  #drainWaiters: Array<() => void> = [];
  #received = 0;
  #dropped = 0;
  #held = 0;

  /** Creates an empty inbox; throws a `RangeError` if `capacity` is not a positive integer. */
  constructor(options: InboxOptions<T>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`Expected inbox capacity to be a positive integer, got ${String(options.capacity)}`);
    }
    this.#capacity = options.capacity;
    this.#lowWater = Math.floor(options.capacity / 2);
    this.#overflow = options.overflow;
    this.#onDrop = options.onDrop;
    this.#queue = new AsyncQueue<T>({
      onTake: () => this.#afterTake(),
      secondReader: () => new SecondReaderError('the inbox')
    });
  }

  /** Frames that writers hold after a refused {@link Inbox.offer}, waiting to be offered again. */
  get held(): number {
    return this.#held;
  }

  /** A writer holds `delta` more (or, negative, fewer) refused frames. */
  noteHeld(delta: number): void {
    this.#held += delta;
  }

  /** The number of buffered messages; exceeds the capacity only through {@link Inbox.write} under `block`. */
  get depth(): number {
    return this.#queue.size;
  }

  /** Every message written before {@link Inbox.end}, kept or dropped. */
  get received(): number {
    return this.#received;
  }

  /** Messages discarded by a `drop-oldest` or `drop-newest` policy. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether {@link Inbox.end} has been called. */
  get ended(): boolean {
    return this.#queue.ended;
  }

  /**
   * Takes one message if the inbox has room for it: under `block` at capacity
   * it returns `false` without taking or counting it, and the caller keeps it
   * (and anything newer from the same source) until {@link Inbox.onDrain}
   * calls back. This is how sockets deliver, so under `block` the depth never
   * exceeds the capacity. The `drop-*` policies always take it (and may drop).
   */
  offer(id: string, data: string | Uint8Array, receivedAt: number): boolean {
    if (this.#overflow === 'block' && this.#queue.size >= this.#capacity && !this.#queue.ended) return false;
    this.write(id, data, receivedAt);
    return true;
  }

  /**
   * Delivers one message. Returns `false` only under `block`, when the depth
   * has reached the capacity: the caller should pause its socket and call
   * {@link Inbox.onDrain}. After {@link Inbox.end} the message is ignored.
   */
  write(id: string, data: string | Uint8Array, receivedAt: number): boolean {
    // `T` is InboxMessage wherever write() is used (a pool's inbox); put() serves the other kinds.
    return this.put({ id, data, receivedAt } as InboxMessage as T);
  }

  /**
   * Delivers one value as it is, under the same capacity and overflow rules
   * as {@link Inbox.write}: a sharded pool's inbox takes whole messages (or
   * what its shards' `process` made of them) from its threads this way.
   */
  put(value: T): boolean {
    const queue = this.#queue;
    if (queue.ended) return true;
    this.#received++;
    if (queue.size < this.#capacity) {
      queue.push(value);
      // A push may have gone straight to a waiting reader, so re-read the size.
      return this.#overflow !== 'block' || queue.size < this.#capacity;
    }
    switch (this.#overflow) {
      case 'block':
        // Frames parsed after the socket was paused still arrive; keep them.
        queue.push(value);
        return false;
      case 'drop-newest':
        this.#drop(value);
        return true;
      case 'drop-oldest': {
        const evicted = queue.evict();
        queue.push(value);
        if (evicted !== undefined) this.#drop(evicted);
        return true;
      }
    }
  }

  /**
   * Calls `resume` once, on a microtask, when the depth has fallen to the
   * low-water mark (half the capacity, rounded down) — at once if it already
   * has, or if the inbox has ended.
   */
  onDrain(resume: () => void): void {
    if (this.#queue.ended || this.#queue.size <= this.#lowWater) queueMicrotask(resume);
    else this.#drainWaiters.push(resume);
  }

  /** Takes the oldest message synchronously, or returns `undefined` when empty. */
  shift(): T | undefined {
    return this.#queue.shift();
  }

  /** Takes up to `max` of the oldest messages synchronously (all by default); `[]` when empty. */
  drain(max?: number): T[] {
    return this.#queue.drain(max);
  }

  /** Returns an iterator over arrays of messages: one promise per batch, not per message. */
  batches(max?: number): AsyncIterableIterator<T[], undefined, undefined> {
    return this.#queue.batches(max);
  }

  /**
   * Accepts no more messages and releases every paused writer. Readers still
   * receive what is buffered, then finish.
   */
  end(): void {
    this.#queue.end();
    this.#releaseDrainWaiters();
  }

  /** Returns a fresh iterator; breaking out of it keeps the rest buffered. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T, undefined, undefined> {
    return this.#queue[Symbol.asyncIterator]();
  }

  #afterTake(): void {
    if (this.#drainWaiters.length !== 0 && this.#queue.size <= this.#lowWater) this.#releaseDrainWaiters();
  }

  // Resumes run on microtasks: a resumed socket emits buffered frames
  // synchronously, which would re-enter write() in the middle of a take.
  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    if (waiters.length === 0) return;
    this.#drainWaiters = [];
    for (const resume of waiters) queueMicrotask(resume);
  }

  #drop(message: T): void {
    this.#dropped++;
    if (this.#onDrop !== undefined) this.#onDrop(message);
  }
}
