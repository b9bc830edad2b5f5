import { describe, expect, it, vi } from 'vitest';
import { Inbox } from '../src/inbox.ts';
import type { InboxMessage } from '../src/types.ts';

const PEER = 'wss://relay.example';

async function collect(inbox: Inbox): Promise<InboxMessage[]> {
  const out: InboxMessage[] = [];
  for await (const message of inbox) out.push(message);
  return out;
}

function drainData(inbox: Inbox): unknown[] {
  const out: unknown[] = [];
  for (let m = inbox.shift(); m !== undefined; m = inbox.shift()) out.push(m.data);
  return out;
}

// Lets every queued microtask and promise reaction run.
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Inbox', () => {
  describe('delivery', () => {
    it('delivers messages in write order, tagged with id and receivedAt', async () => {
      const inbox = new Inbox({ capacity: 8, overflow: 'block' });
      inbox.write(PEER, 'a', 1);
      inbox.write('wss://other.example', new Uint8Array([1, 2]), 2);
      inbox.end();
      expect(await collect(inbox)).toEqual([
        { id: PEER, data: 'a', receivedAt: 1 },
        { id: 'wss://other.example', data: new Uint8Array([1, 2]), receivedAt: 2 }
      ]);
    });

    it('hands a write straight to a waiting consumer', async () => {
      const inbox = new Inbox({ capacity: 1, overflow: 'block' });
      const pending = inbox[Symbol.asyncIterator]().next();
      expect(inbox.write(PEER, 'now', 5)).toBe(true);
      expect(await pending).toEqual({ done: false, value: { id: PEER, data: 'now', receivedAt: 5 } });
      expect(inbox.depth).toBe(0);
    });

    it('keeps the remaining messages when the consumer breaks out of its loop', async () => {
      const inbox = new Inbox({ capacity: 8, overflow: 'block' });
      for (let i = 0; i < 4; i++) inbox.write(PEER, `m${i}`, i);
      for await (const message of inbox) if (message.data === 'm1') break;
      inbox.end();
      expect((await collect(inbox)).map((m) => m.data)).toEqual(['m2', 'm3']);
    });

    it('hands out buffered messages in batches, oldest first', async () => {
      const inbox = new Inbox({ capacity: 8, overflow: 'block' });
      for (let i = 0; i < 5; i++) inbox.write(PEER, `m${i}`, i);
      expect(inbox.drain(2).map((m) => m.data)).toEqual(['m0', 'm1']);
      inbox.end();
      const batches: unknown[][] = [];
      for await (const batch of inbox.batches()) batches.push(batch.map((m) => m.data));
      expect(batches).toEqual([['m2', 'm3', 'm4']]);
    });

    it('counts every written message as received', () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      for (let i = 0; i < 6; i++) inbox.write(PEER, 'x', i);
      inbox.shift();
      expect(inbox.received).toBe(6);
      expect(inbox.depth).toBe(5);
    });

    it('rejects a capacity that is not a positive integer', () => {
      expect(() => new Inbox({ capacity: 0, overflow: 'block' })).toThrow(RangeError);
      expect(() => new Inbox({ capacity: 1.5, overflow: 'block' })).toThrow(RangeError);
    });
  });

  describe('block policy', () => {
    it('returns false once the depth reaches the capacity, true before', () => {
      const inbox = new Inbox({ capacity: 3, overflow: 'block' });
      expect([1, 2, 3, 4].map((i) => inbox.write(PEER, i.toString(), i))).toEqual([true, true, false, false]);
    });

    it('keeps every message in order when written three times past capacity', async () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      for (let i = 0; i < 12; i++) inbox.write(PEER, `m${i}`, i);
      expect(inbox.depth).toBe(12);
      inbox.end();
      const data = (await collect(inbox)).map((m) => m.data);
      expect(data).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
      expect(inbox.dropped).toBe(0);
    });
  });

  describe('offer', () => {
    it('under block refuses at capacity without taking or counting the message', () => {
      const inbox = new Inbox({ capacity: 2, overflow: 'block' });
      expect([1, 2, 3, 4].map((i) => inbox.offer(PEER, `m${i}`, i))).toEqual([true, true, false, false]);
      expect({ depth: inbox.depth, received: inbox.received, dropped: inbox.dropped }).toEqual({ depth: 2, received: 2, dropped: 0 });
      expect(inbox.shift()?.data).toBe('m1');
      expect(inbox.offer(PEER, 'm3', 3)).toBe(true);
      expect(inbox.drain().map((m) => m.data)).toEqual(['m2', 'm3']);
    });

    it('under the drop policies always takes the message, as write does', () => {
      for (const overflow of ['drop-newest', 'drop-oldest'] as const) {
        const inbox = new Inbox({ capacity: 2, overflow });
        expect([1, 2, 3].map((i) => inbox.offer(PEER, `m${i}`, i))).toEqual([true, true, true]);
        expect({ depth: inbox.depth, received: inbox.received, dropped: inbox.dropped }).toEqual({ depth: 2, received: 3, dropped: 1 });
      }
    });

    it('after end takes nothing and reports it taken, so a holder lets go', () => {
      const inbox = new Inbox({ capacity: 1, overflow: 'block' });
      inbox.offer(PEER, 'a', 1);
      inbox.end();
      expect(inbox.offer(PEER, 'b', 2)).toBe(true);
      expect(inbox.received).toBe(1);
    });
  });

  describe('onDrain', () => {
    it('resumes once, asynchronously, after the consumer drains to the low-water mark', async () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      for (let i = 0; i < 4; i++) inbox.write(PEER, 'x', i);
      const resume = vi.fn();
      inbox.onDrain(resume);
      inbox.shift(); // depth 3: above low water (2)
      await settle();
      expect(resume).not.toHaveBeenCalled();
      inbox.shift(); // depth 2: at low water
      expect(resume).not.toHaveBeenCalled(); // never inside the take itself
      await settle();
      expect(resume).toHaveBeenCalledTimes(1);
      inbox.shift();
      inbox.shift();
      await settle();
      expect(resume).toHaveBeenCalledTimes(1);
    });

    it('resumes when a for-await consumer drains to the low-water mark', async () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      for (let i = 0; i < 4; i++) inbox.write(PEER, 'x', i);
      const resume = vi.fn();
      inbox.onDrain(resume);
      const iterator = inbox[Symbol.asyncIterator]();
      await iterator.next();
      await settle();
      expect(resume).not.toHaveBeenCalled();
      await iterator.next();
      await settle();
      expect(resume).toHaveBeenCalledTimes(1);
    });

    it('resumes once when a batch consumer drains past the low-water mark', async () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      for (let i = 0; i < 5; i++) inbox.write(PEER, 'x', i);
      const resume = vi.fn();
      inbox.onDrain(resume);
      expect((await inbox.batches().next()).value).toHaveLength(5);
      await settle();
      expect(resume).toHaveBeenCalledTimes(1);
    });

    it('resumes on a microtask when registered at or below the low-water mark', async () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      inbox.write(PEER, 'x', 1);
      const resume = vi.fn();
      inbox.onDrain(resume);
      expect(resume).not.toHaveBeenCalled();
      await Promise.resolve();
      expect(resume).toHaveBeenCalledTimes(1);
    });

    it('resumes every pending writer when the inbox ends', async () => {
      const inbox = new Inbox({ capacity: 2, overflow: 'block' });
      for (let i = 0; i < 4; i++) inbox.write(PEER, 'x', i);
      const first = vi.fn();
      const second = vi.fn();
      inbox.onDrain(first);
      inbox.onDrain(second);
      inbox.end();
      await settle();
      expect(first).toHaveBeenCalledTimes(1);
      expect(second).toHaveBeenCalledTimes(1);
    });

    it('lets a resumed writer write again without re-entering the take', async () => {
      const inbox = new Inbox({ capacity: 2, overflow: 'block' });
      inbox.write(PEER, 'a', 1);
      inbox.write(PEER, 'b', 2);
      // The resume writes synchronously, as a resumed ws socket would.
      inbox.onDrain(() => inbox.write(PEER, 'c', 3));
      expect(inbox.shift()?.data).toBe('a');
      expect(inbox.depth).toBe(1);
      await settle();
      expect(drainData(inbox)).toEqual(['b', 'c']);
    });
  });

  describe('drop-newest policy', () => {
    it('discards new messages while full, counts them and reports each to onDrop', () => {
      const onDrop = vi.fn();
      const inbox = new Inbox({ capacity: 2, overflow: 'drop-newest', onDrop });
      const results = ['a', 'b', 'c', 'd'].map((data, i) => inbox.write(PEER, data, i));
      expect(results).toEqual([true, true, true, true]);
      expect(drainData(inbox)).toEqual(['a', 'b']);
      expect(inbox.dropped).toBe(2);
      expect(inbox.received).toBe(4);
      expect(onDrop.mock.calls).toEqual([[{ id: PEER, data: 'c', receivedAt: 2 }], [{ id: PEER, data: 'd', receivedAt: 3 }]]);
    });

    it('accepts messages again once the consumer makes room', () => {
      const inbox = new Inbox({ capacity: 1, overflow: 'drop-newest' });
      inbox.write(PEER, 'a', 1);
      inbox.write(PEER, 'b', 2);
      inbox.shift();
      inbox.write(PEER, 'c', 3);
      expect(drainData(inbox)).toEqual(['c']);
      expect(inbox.dropped).toBe(1);
    });
  });

  describe('drop-oldest policy', () => {
    it('evicts the oldest messages while full, counts them and reports each to onDrop', () => {
      const onDrop = vi.fn();
      const inbox = new Inbox({ capacity: 2, overflow: 'drop-oldest', onDrop });
      const results = ['a', 'b', 'c', 'd', 'e'].map((data, i) => inbox.write(PEER, data, i));
      expect(results).toEqual([true, true, true, true, true]);
      expect(inbox.depth).toBe(2);
      expect(drainData(inbox)).toEqual(['d', 'e']);
      expect(inbox.dropped).toBe(3);
      expect(onDrop.mock.calls.map(([message]) => (message as InboxMessage).data)).toEqual(['a', 'b', 'c']);
    });

    it('keeps received = taken + depth + dropped', () => {
      const inbox = new Inbox({ capacity: 3, overflow: 'drop-oldest' });
      let taken = 0;
      for (let i = 0; i < 20; i++) {
        inbox.write(PEER, 'x', i);
        if (i % 4 === 0 && inbox.shift() !== undefined) taken++;
      }
      expect(inbox.received).toBe(taken + inbox.depth + inbox.dropped);
    });
  });

  describe('ended', () => {
    it('yields what is left after end() and then finishes', async () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      inbox.write(PEER, 'a', 1);
      inbox.end();
      expect(inbox.ended).toBe(true);
      expect((await collect(inbox)).map((m) => m.data)).toEqual(['a']);
    });

    it('finishes a consumer that is waiting when end() is called', async () => {
      const inbox = new Inbox({ capacity: 4, overflow: 'block' });
      const loop = collect(inbox);
      await settle();
      inbox.end();
      expect(await loop).toEqual([]);
    });

    it('ignores writes after end() and reports them as accepted', () => {
      const inbox = new Inbox({ capacity: 1, overflow: 'block' });
      inbox.end();
      expect(inbox.write(PEER, 'late', 1)).toBe(true);
      expect(inbox.depth).toBe(0);
      expect(inbox.received).toBe(0);
    });

    it('resumes a writer that registers after end() on a microtask', async () => {
      const inbox = new Inbox({ capacity: 1, overflow: 'block' });
      inbox.write(PEER, 'a', 1);
      inbox.write(PEER, 'b', 2);
      inbox.end();
      const resume = vi.fn();
      inbox.onDrain(resume);
      await Promise.resolve();
      expect(resume).toHaveBeenCalledTimes(1);
    });
  });
});
