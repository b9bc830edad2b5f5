import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../src/async-queue.ts';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

// Lets every queued microtask and promise reaction run.
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('AsyncQueue', () => {
  describe('buffering', () => {
    it('yields pushed items in FIFO order', async () => {
      const queue = new AsyncQueue<number>();
      for (let i = 0; i < 5; i++) queue.push(i);
      queue.end();
      expect(await collect(queue)).toEqual([0, 1, 2, 3, 4]);
    });

    it('keeps FIFO order across many ring-buffer growths and wrap-arounds', () => {
      const queue = new AsyncQueue<number>();
      const taken: number[] = [];
      let next = 0;
      // Interleave pushes and shifts so the head wraps while the ring grows.
      for (let round = 0; round < 50; round++) {
        for (let i = 0; i < 7 + round * 3; i++) queue.push(next++);
        for (let i = 0; i < 5 + round * 2; i++) taken.push(queue.shift() as number);
      }
      while (queue.size > 0) taken.push(queue.shift() as number);
      expect(taken).toEqual(Array.from({ length: next }, (_, i) => i));
    });

    it('reports its size as items come and go', () => {
      const queue = new AsyncQueue<string>();
      queue.push('a');
      queue.push('b');
      expect(queue.size).toBe(2);
      expect(queue.shift()).toBe('a');
      expect(queue.size).toBe(1);
    });

    it('returns undefined from shift() when empty', () => {
      expect(new AsyncQueue<number>().shift()).toBeUndefined();
    });

    it('drains and refills correctly after a burst large enough to shrink the ring', () => {
      const queue = new AsyncQueue<number>();
      for (let i = 0; i < 10_000; i++) queue.push(i);
      for (let i = 0; i < 10_000; i++) expect(queue.shift()).toBe(i);
      queue.push(42);
      queue.push(43);
      expect([queue.shift(), queue.shift(), queue.shift()]).toEqual([42, 43, undefined]);
    });
  });

  describe('waiting consumer', () => {
    it('hands a push straight to a consumer waiting on an empty queue', async () => {
      const queue = new AsyncQueue<string>();
      const pending = queue[Symbol.asyncIterator]().next();
      queue.push('hello');
      expect(await pending).toEqual({ done: false, value: 'hello' });
      expect(queue.size).toBe(0);
    });

    it('serves several waiting next() calls in the order they were made', async () => {
      const queue = new AsyncQueue<number>();
      const iterator = queue[Symbol.asyncIterator]();
      const first = iterator.next();
      const second = iterator.next();
      queue.push(1);
      queue.push(2);
      expect(await first).toEqual({ done: false, value: 1 });
      expect(await second).toEqual({ done: false, value: 2 });
    });

    it('does not resolve a waiting next() before anything is pushed', async () => {
      const queue = new AsyncQueue<number>();
      let resolved = false;
      void queue[Symbol.asyncIterator]()
        .next()
        .then(() => {
          resolved = true;
        });
      await settle();
      expect(resolved).toBe(false);
      queue.end();
    });
  });

  describe('breaking out of a loop', () => {
    it('keeps the remaining items for the next for-await loop', async () => {
      const queue = new AsyncQueue<number>();
      for (let i = 1; i <= 5; i++) queue.push(i);
      const first: number[] = [];
      for await (const n of queue) {
        first.push(n);
        if (n === 2) break;
      }
      queue.end();
      expect(first).toEqual([1, 2]);
      expect(await collect(queue)).toEqual([3, 4, 5]);
    });

    it('finishes only the iterator that returned', async () => {
      const queue = new AsyncQueue<number>();
      const closed = queue[Symbol.asyncIterator]();
      const open = queue[Symbol.asyncIterator]();
      await closed.return?.();
      queue.push(7);
      expect(await closed.next()).toEqual({ done: true, value: undefined });
      expect(await open.next()).toEqual({ done: false, value: 7 });
    });

    it('finishes a parked next() of a returned iterator without losing the next push', async () => {
      const queue = new AsyncQueue<number>();
      const closed = queue[Symbol.asyncIterator]();
      const parked = closed.next();
      await closed.return?.();
      expect(await parked).toEqual({ done: true, value: undefined });
      queue.push(9);
      expect(queue.size).toBe(1);
      expect(queue.shift()).toBe(9);
    });
  });

  describe('ended', () => {
    it('yields what is left after end() and then finishes', async () => {
      const queue = new AsyncQueue<string>();
      queue.push('a');
      queue.push('b');
      queue.end();
      expect(queue.ended).toBe(true);
      expect(await collect(queue)).toEqual(['a', 'b']);
      expect(await collect(queue)).toEqual([]);
    });

    it('finishes a consumer that is waiting when end() is called', async () => {
      const queue = new AsyncQueue<number>();
      const loop = collect(queue);
      await settle();
      queue.end();
      expect(await loop).toEqual([]);
    });

    it('refuses pushes after end()', () => {
      const queue = new AsyncQueue<number>();
      queue.end();
      expect(queue.push(1)).toBe(false);
      expect(queue.size).toBe(0);
    });
  });

  describe('drain', () => {
    it('takes every buffered item at once, oldest first, and leaves the queue empty', () => {
      const queue = new AsyncQueue<number>();
      for (let i = 0; i < 40; i++) queue.push(i);
      expect(queue.drain()).toEqual(Array.from({ length: 40 }, (_, i) => i));
      expect(queue.size).toBe(0);
      expect(queue.drain()).toEqual([]);
    });

    it('takes at most max items and keeps the rest in order', () => {
      const queue = new AsyncQueue<string>();
      for (const item of ['a', 'b', 'c', 'd', 'e']) queue.push(item);
      expect(queue.drain(2)).toEqual(['a', 'b']);
      expect(queue.drain(2)).toEqual(['c', 'd']);
      expect(queue.drain(2)).toEqual(['e']);
    });

    it('calls onTake once per item taken', () => {
      const seen: number[] = [];
      const queue = new AsyncQueue<number>({ onTake: (item) => seen.push(item) });
      for (let i = 0; i < 5; i++) queue.push(i);
      queue.drain(3);
      expect(seen).toEqual([0, 1, 2]);
    });

    it.each([0, -1, 1.5, Number.NaN])('rejects a batch size of %s', (max) => {
      expect(() => new AsyncQueue<number>().drain(max)).toThrow(RangeError);
      expect(() => new AsyncQueue<number>().batches(max)).toThrow(RangeError);
    });
  });

  describe('batches', () => {
    it('yields what is buffered as one batch per next(), up to max each', async () => {
      const queue = new AsyncQueue<number>();
      for (let i = 0; i < 5; i++) queue.push(i);
      queue.end();
      const batches: number[][] = [];
      for await (const batch of queue.batches(2)) batches.push(batch);
      expect(batches).toEqual([[0, 1], [2, 3], [4]]);
    });

    it('waits on an empty queue, then takes the first push and everything pushed with it', async () => {
      const queue = new AsyncQueue<number>();
      const pending = queue.batches().next();
      await settle();
      queue.push(1);
      queue.push(2);
      queue.push(3);
      expect(await pending).toEqual({ done: false, value: [1, 2, 3] });
      expect(queue.size).toBe(0);
    });

    it('finishes once the queue has ended and is empty', async () => {
      const queue = new AsyncQueue<number>();
      const batches = queue.batches();
      const pending = batches.next();
      queue.end();
      expect(await pending).toEqual({ done: true, value: undefined });
    });

    it('keeps the remaining items when the loop breaks', async () => {
      const queue = new AsyncQueue<number>();
      for (let i = 0; i < 6; i++) queue.push(i);
      for await (const batch of queue.batches(4)) {
        expect(batch).toEqual([0, 1, 2, 3]);
        break;
      }
      queue.end();
      expect(await collect(queue)).toEqual([4, 5]);
    });

    it('shares the buffer with the item iterator, in FIFO order', async () => {
      const queue = new AsyncQueue<number>();
      for (let i = 0; i < 4; i++) queue.push(i);
      const items = queue[Symbol.asyncIterator]();
      expect(await items.next()).toEqual({ done: false, value: 0 });
      expect(await queue.batches().next()).toEqual({ done: false, value: [1, 2, 3] });
    });
  });

  describe('onTake', () => {
    it('is called with each consumed item, after the size is updated', async () => {
      const seen: Array<[number, number]> = [];
      const queue: AsyncQueue<number> = new AsyncQueue<number>({
        onTake: (item) => seen.push([item, queue.size])
      });
      queue.push(1);
      queue.push(2);
      queue.push(3);
      queue.shift();
      await queue[Symbol.asyncIterator]().next();
      expect(seen).toEqual([
        [1, 2],
        [2, 1]
      ]);
    });

    it('is called when a push is handed to a waiting consumer', async () => {
      const seen: number[] = [];
      const queue = new AsyncQueue<number>({ onTake: (item) => seen.push(item) });
      const pending = queue[Symbol.asyncIterator]().next();
      queue.push(5);
      await pending;
      expect(seen).toEqual([5]);
    });

    it('is not called by evict()', () => {
      const seen: number[] = [];
      const queue = new AsyncQueue<number>({ onTake: (item) => seen.push(item) });
      queue.push(1);
      queue.push(2);
      expect(queue.evict()).toBe(1);
      expect(seen).toEqual([]);
      expect(queue.shift()).toBe(2);
    });

    it('can be overridden by a subclass', () => {
      class Counting extends AsyncQueue<number> {
        taken = 0;
        protected override onTake(item: number): void {
          super.onTake(item);
          this.taken++;
        }
      }
      const queue = new Counting();
      queue.push(1);
      queue.push(2);
      queue.shift();
      expect(queue.taken).toBe(1);
    });
  });
});
