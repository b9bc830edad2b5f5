/** Options of an {@link AsyncQueue}. */
export interface AsyncQueueOptions<T> {
  /**
   * Called synchronously each time a consumer takes an item (through an
   * iterator, {@link AsyncQueue.shift}, or a push handed straight to a waiting
   * reader). `size` is already updated when it runs. Evictions do not call it.
   * @default undefined
   */
  onTake?: (item: T) => void;
  /**
   * Makes the queue single-reader: while one iterator (item or batch) is
   * open, asking for another throws what this returns. An iterator closes
   * when it is returned (`break` in `for await`) or has seen the end.
   * @default undefined (any number of iterators share the buffer)
   */
  secondReader?: () => Error;
}

/** A pending `next()` call, parked until an item arrives or the queue ends. */
interface Waiter<T> {
  readonly resolve: (result: IteratorResult<T, undefined>) => void;
  readonly reader: Reader;
}

/** The state of one iterator handed out by `[Symbol.asyncIterator]()`. */
interface Reader {
  closed: boolean;
}

// One frozen object serves every `done` result: it carries no data, so sharing
// it is safe and saves an allocation per finished iterator.
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

const INITIAL_SLOTS = 16;
// After a burst has been drained, a ring this large is swapped for a small one
// so a one-off spike does not pin its memory forever.
const SHRINK_SLOTS = 4096;

/**
 * A single-consumer FIFO queue that is also an `AsyncIterable`.
 *
 * Items live in a growable ring buffer, so taking one is O(1) whatever the
 * depth. Every call to `[Symbol.asyncIterator]()` returns a fresh iterator over
 * the same buffer; ending an iterator (`break` in `for await`) never discards
 * buffered items, so a later loop picks up where the previous one stopped.
 *
 * @example
 * ```ts
 * const queue = new AsyncQueue<number>();
 * queue.push(1);
 * queue.push(2);
 * queue.end();
 * for await (const n of queue) console.log(n); // 1, then 2
 * ```
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #slots: Array<T | undefined> = emptySlots<T>(INITIAL_SLOTS);
  #mask = INITIAL_SLOTS - 1;
  #head = 0;
  #size = 0;
  #ended = false;
  // Waiters exist only while the buffer is empty, and there is rarely more
  // than one (one per concurrent `next()`), so a plain array is cheap here.
  #waiters: Array<Waiter<T>> = [];
  readonly #takeHook: ((item: T) => void) | undefined;
  readonly #secondReader: (() => Error) | undefined;
  // The open iterator of a single-reader queue.
  #reader: Reader | undefined;

  /** Creates an empty, open queue. */
  constructor(options: AsyncQueueOptions<T> = {}) {
    this.#takeHook = options.onTake;
    this.#secondReader = options.secondReader;
  }

  /** The number of buffered items. */
  get size(): number {
    return this.#size;
  }

  /** Whether {@link AsyncQueue.end} has been called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Appends an item, or hands it straight to the oldest waiting reader.
   * Returns `false` (and keeps nothing) once the queue has ended.
   */
  push(item: T): boolean {
    if (this.#ended) return false;
    if (this.#waiters.length !== 0) {
      const waiter = this.#waiters.shift() as Waiter<T>;
      waiter.resolve({ done: false, value: item });
      this.onTake(item);
      return true;
    }
    if (this.#size === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
    return true;
  }

  /** Takes the oldest item synchronously, or returns `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#removeHead();
    this.onTake(item);
    return item;
  }

  /**
   * Takes up to `max` of the oldest items synchronously, oldest first; an
   * empty array when there are none. Each counts as taken (`onTake` runs).
   * Throws a `RangeError` unless `max` is a positive integer or `Infinity`.
   */
  drain(max = Number.POSITIVE_INFINITY): T[] {
    assertBatchSize(max);
    const items: T[] = [];
    this.#takeInto(items, max);
    return items;
  }

  /**
   * Returns an iterator over batches: each `next()` waits for at least one
   * item, then takes it and whatever else is buffered, up to `max` items in
   * all. One promise per batch instead of one per item, for hot consumers.
   * Like the item iterator, ending it keeps the rest buffered.
   *
   * @example
   * ```ts
   * for await (const batch of queue.batches(512)) for (const item of batch) handle(item);
   * ```
   */
  batches(max = Number.POSITIVE_INFINITY): AsyncIterableIterator<T[], undefined, undefined> {
    assertBatchSize(max);
    const items = this[Symbol.asyncIterator]();
    const batches: AsyncIterableIterator<T[], undefined, undefined> = {
      next: async () => {
        const first = await items.next();
        if (first.done === true) return DONE;
        const batch = [first.value];
        this.#takeInto(batch, max);
        return { done: false, value: batch };
      },
      return: async () => {
        await items.return!();
        return DONE;
      },
      [Symbol.asyncIterator]: () => batches
    };
    return batches;
  }

  /**
   * Removes the oldest item without treating it as consumed: `onTake` is not
   * called. Bounded streams use it to make room under a drop-oldest policy.
   */
  evict(): T | undefined {
    return this.#size === 0 ? undefined : this.#removeHead();
  }

  /**
   * Accepts no more pushes. Readers still receive what is buffered, then
   * finish; readers waiting on an empty queue finish at once.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      waiter.reader.closed = true;
      waiter.resolve(DONE);
    }
  }

  /** Returns a fresh iterator reading from the shared buffer. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T, undefined, undefined> {
    const reader: Reader = { closed: false };
    if (this.#secondReader !== undefined) {
      if (this.#reader !== undefined && !this.#reader.closed) throw this.#secondReader();
      this.#reader = reader;
    }
    const iterator: AsyncIterableIterator<T, undefined, undefined> = {
      next: () => this.#next(reader),
      return: () => this.#close(reader),
      [Symbol.asyncIterator]: () => iterator
    };
    return iterator;
  }

  /**
   * Runs after an item has been consumed. Subclasses may override it (calling
   * `super.onTake`) instead of passing `onTake`.
   */
  protected onTake(item: T): void {
    if (this.#takeHook !== undefined) this.#takeHook(item);
  }

  #next(reader: Reader): Promise<IteratorResult<T, undefined>> {
    if (reader.closed) return Promise.resolve(DONE);
    if (this.#size > 0) {
      const item = this.#removeHead();
      this.onTake(item);
      return Promise.resolve({ done: false, value: item });
    }
    if (this.#ended) {
      reader.closed = true;
      return Promise.resolve(DONE);
    }
    return new Promise((resolve) => {
      this.#waiters.push({ resolve, reader });
    });
  }

  // Ends one iterator only. Its parked `next()` calls finish so that a later
  // push is not handed to a reader nobody listens to any more.
  #close(reader: Reader): Promise<IteratorResult<T, undefined>> {
    reader.closed = true;
    if (this.#waiters.length > 0) {
      const kept: Array<Waiter<T>> = [];
      for (const waiter of this.#waiters) {
        if (waiter.reader === reader) waiter.resolve(DONE);
        else kept.push(waiter);
      }
      this.#waiters = kept;
    }
    return Promise.resolve(DONE);
  }

  // Moves buffered items into `items` until it holds `max` or the buffer is empty.
  #takeInto(items: T[], max: number): void {
    while (this.#size !== 0 && items.length < max) {
      const item = this.#removeHead();
      items.push(item);
      this.onTake(item);
    }
  }

  #removeHead(): T {
    const head = this.#head;
    const item = this.#slots[head] as T;
    // Clear the slot so the queue does not keep a consumed item alive.
    this.#slots[head] = undefined;
    this.#head = (head + 1) & this.#mask;
    this.#size--;
    if (this.#size === 0) {
      this.#head = 0;
      if (this.#slots.length >= SHRINK_SLOTS) this.#reset();
    }
    return item;
  }

  // Doubles the ring and unrolls it so the oldest item sits at index 0.
  #grow(): void {
    const old = this.#slots;
    const next = emptySlots<T>(old.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#slots = next;
    this.#mask = next.length - 1;
    this.#head = 0;
  }

  #reset(): void {
    this.#slots = emptySlots<T>(INITIAL_SLOTS);
    this.#mask = INITIAL_SLOTS - 1;
  }
}

function assertBatchSize(max: number): void {
  if (max !== Number.POSITIVE_INFINITY && !(Number.isInteger(max) && max >= 1)) {
    throw new RangeError(`Expected the batch size to be a positive integer or Infinity, got ${String(max)}`);
  }
}

// Filled rather than holey, so V8 keeps the ring in its fast packed form.
function emptySlots<T>(length: number): Array<T | undefined> {
  return new Array<T | undefined>(length).fill(undefined);
}
