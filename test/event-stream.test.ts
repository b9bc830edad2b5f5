import { describe, expect, it } from 'vitest';
import { EventStream } from '../src/event-stream.ts';
import type { PoolEvent } from '../src/types.ts';

const connected = (id: string, at: number): PoolEvent => ({ kind: 'connected', id, at });

async function collect(stream: EventStream): Promise<PoolEvent[]> {
  const out: PoolEvent[] = [];
  for await (const event of stream) out.push(event);
  return out;
}

// Lets every queued microtask and promise reaction run.
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('EventStream', () => {
  describe('delivery', () => {
    it('yields events in write order', async () => {
      const stream = new EventStream({ capacity: 8 });
      stream.write(connected('a', 1));
      stream.write({ kind: 'retired', id: 'b', at: 2, attempts: 4 });
      stream.end();
      expect(await collect(stream)).toEqual([connected('a', 1), { kind: 'retired', id: 'b', at: 2, attempts: 4 }]);
    });

    it('hands a write straight to a waiting consumer', async () => {
      const stream = new EventStream({ capacity: 1 });
      const pending = stream[Symbol.asyncIterator]().next();
      stream.write(connected('a', 1));
      expect(await pending).toEqual({ done: false, value: connected('a', 1) });
      expect(stream.depth).toBe(0);
    });

    it('keeps the remaining events when the consumer breaks out of its loop', async () => {
      const stream = new EventStream({ capacity: 8 });
      for (let i = 0; i < 3; i++) stream.write(connected(`p${i}`, i));
      for await (const event of stream) if (event.id === 'p0') break;
      stream.end();
      expect((await collect(stream)).map((e) => e.id)).toEqual(['p1', 'p2']);
    });

    it('rejects a capacity that is not a positive integer', () => {
      expect(() => new EventStream({ capacity: 0 })).toThrow(RangeError);
    });
  });

  describe('overflow', () => {
    it('drops the oldest events when full and counts them', () => {
      const stream = new EventStream({ capacity: 3 });
      for (let i = 0; i < 7; i++) stream.write(connected(`p${i}`, i));
      expect(stream.depth).toBe(3);
      expect(stream.dropped).toBe(4);
      const ids: string[] = [];
      for (let e = stream.shift(); e !== undefined; e = stream.shift()) ids.push(e.id);
      expect(ids).toEqual(['p4', 'p5', 'p6']);
    });

    it('never blocks a writer when nobody reads, however many events arrive', () => {
      const stream = new EventStream({ capacity: 16 });
      for (let i = 0; i < 100_000; i++) stream.write(connected('p', i));
      expect(stream.depth).toBe(16);
      expect(stream.dropped).toBe(100_000 - 16);
    });
  });

  describe('ended', () => {
    it('yields what is left after end() and then finishes', async () => {
      const stream = new EventStream({ capacity: 4 });
      stream.write(connected('a', 1));
      stream.end();
      expect(stream.ended).toBe(true);
      expect(await collect(stream)).toEqual([connected('a', 1)]);
    });

    it('finishes a consumer that is waiting when end() is called', async () => {
      const stream = new EventStream({ capacity: 4 });
      const loop = collect(stream);
      await settle();
      stream.end();
      expect(await loop).toEqual([]);
    });

    it('ignores writes after end()', () => {
      const stream = new EventStream({ capacity: 4 });
      stream.end();
      stream.write(connected('late', 1));
      expect(stream.depth).toBe(0);
      expect(stream.dropped).toBe(0);
    });
  });
});
