const LONGEST_WAIT = 2 ** 31 - 1;

/** One pending callback of a {@link TimerWheel}; what `setTimeout` returns. */
interface Entry {
  /** Cleared when the timer is cancelled or has run. */
  fn: (() => void) | undefined;
}

/**
 * A clock for an XState actor system (`createActor(logic, { clock })`) that
 * runs every delayed event of the system on one Node timer.
 *
 * XState's scheduler asks its clock for one timer per delayed transition:
 * with Node's own `setTimeout` that is a `Timeout` object (≈ 120 B, async
 * hook ids, a timer-list insert keyed by the exact duration) per peer per
 * heartbeat. Here deadlines are bucketed by `resolution` ms: scheduling
 * allocates one small entry and pushes it on its bucket's array, and one
 * Node timer is armed for the earliest bucket. A callback never runs early;
 * it runs at most `resolution` ms late. Cancelling clears the entry in place;
 * when no timer is pending the Node timer is cleared too, so an idle system
 * does not keep the process alive.
 *
 * @example
 * ```ts
 * const actor = createActor(poolMachine, { input, clock: new TimerWheel() });
 * ```
 */
export class TimerWheel {
  readonly #resolution: number;
  /** Bucket number (deadline / resolution, rounded up) → its entries, in scheduling order. */
  readonly #buckets = new Map<number, Entry[]>();
  /** A binary min-heap of the bucket numbers in `#buckets`. */
  readonly #heap: number[] = [];
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #armedFor = Infinity;
  readonly #fire = (): void => this.#run();

  constructor(resolution = 10) {
    this.#resolution = resolution;
  }

  /** Timers scheduled and neither run nor cancelled. */
  get pending(): number {
    return this.#pending;
  }

  setTimeout(fn: () => void, ms: number): Entry {
    // Strictly after the deadline's bucket start: never early, and never in the run that scheduled it.
    const bucket = Math.floor((performance.now() + Math.max(0, ms)) / this.#resolution) + 1;
    let entries = this.#buckets.get(bucket);
    if (entries === undefined) {
      this.#buckets.set(bucket, (entries = []));
      this.#push(bucket);
    }
    const entry: Entry = { fn };
    entries.push(entry);
    this.#pending += 1;
    if (bucket < this.#armedFor) this.#arm(bucket);
    return entry;
  }

  clearTimeout(entry: Entry | undefined): void {
    if (entry?.fn === undefined) return;
    entry.fn = undefined;
    if (--this.#pending === 0) this.#reset();
  }

  #arm(bucket: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = bucket;
    // Node fires longer waits at once; a wake-up before the bucket is due just re-arms.
    const wait = Math.min(LONGEST_WAIT, Math.max(0, Math.ceil(bucket * this.#resolution - performance.now())));
    this.#timer = setTimeout(this.#fire, wait);
  }

  #reset(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
    this.#buckets.clear();
    this.#heap.length = 0;
  }

  #run(): void {
    this.#timer = undefined;
    // Callbacks re-arm no Node timer while this runs: the end of the run does it once.
    this.#armedFor = -Infinity;
    const now = performance.now();
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]! * this.#resolution <= now) {
      const bucket = this.#pop();
      const entries = this.#buckets.get(bucket)!;
      this.#buckets.delete(bucket);
      for (const entry of entries) {
        const fn = entry.fn;
        if (fn === undefined) continue;
        entry.fn = undefined;
        this.#pending -= 1;
        try {
          fn();
        } catch (error) {
          // As a throwing Node timer would: an uncaught exception, without losing the other callbacks.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    }
    if (this.#pending === 0) this.#reset();
    else if (this.#timer === undefined || heap[0]! < this.#armedFor) this.#arm(heap[0]!);
  }

  #push(bucket: number): void {
    const heap = this.#heap;
    let at = heap.push(bucket) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]! <= bucket) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = bucket;
  }

  #pop(): number {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]! < heap[child]!) child += 1;
      if (heap[child]! >= last) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = last;
    return top;
  }
}
