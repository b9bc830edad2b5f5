import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rendezvousAssign, rendezvousOwner } from '../../src/shards/rendezvous.ts';

const keys = Array.from({ length: 4000 }, (_, i) => `wss://relay-${i}.example/path`);
const shardsOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `shard-${i}`);

function owners(shards: readonly string[]): Map<string, string> {
  return new Map(keys.map((key) => [key, rendezvousOwner(key, shards) as string]));
}

describe('rendezvousOwner', () => {
  it('returns undefined when there is no shard', () => {
    expect(rendezvousOwner('wss://a', [])).toBeUndefined();
  });

  it('does not depend on the order the shards are listed in', () => {
    const shards = shardsOf(7);
    const reversed = [...shards].reverse();
    for (const key of keys.slice(0, 500)) expect(rendezvousOwner(key, reversed)).toBe(rendezvousOwner(key, shards));
  });

  it('spreads keys within ±20 % of an even share', () => {
    for (const n of [2, 3, 4, 8]) {
      const split = rendezvousAssign(keys, shardsOf(n));
      for (const owned of split.values()) {
        expect(owned.length).toBeGreaterThan((keys.length / n) * 0.8);
        expect(owned.length).toBeLessThan((keys.length / n) * 1.2);
      }
    }
  });

  it('moves only the leaving shard’s keys when a shard leaves', () => {
    const shards = shardsOf(5);
    const before = owners(shards);
    const after = owners(shards.filter((shard) => shard !== 'shard-2'));
    let moved = 0;
    for (const [key, owner] of before) {
      if (owner === 'shard-2') moved++;
      else expect(after.get(key)).toBe(owner);
    }
    expect(after.size).toBe(keys.length);
    expect([...after.values()]).not.toContain('shard-2');
    expect(moved).toBeGreaterThan(0);
  });

  it('moves keys only to a joining shard, about its share', () => {
    const shards = shardsOf(4);
    const before = owners(shards);
    const after = owners([...shards, 'newcomer']);
    let moved = 0;
    for (const [key, owner] of after) {
      if (owner !== before.get(key)) {
        expect(owner).toBe('newcomer');
        moved++;
      }
    }
    expect(moved).toBeGreaterThan((keys.length / 5) * 0.8);
    expect(moved).toBeLessThan((keys.length / 5) * 1.2);
  });

  it('keeps every key that did not belong to a removed shard in place, for any shard set', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 8 }),
        fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 50 }),
        fc.nat(),
        (shards, someKeys, pick) => {
          const gone = shards[pick % shards.length] as string;
          const rest = shards.filter((shard) => shard !== gone);
          for (const key of someKeys) {
            const owner = rendezvousOwner(key, shards);
            if (owner !== gone) expect(rendezvousOwner(key, rest)).toBe(owner);
            else expect(rest).toContain(rendezvousOwner(key, rest));
          }
        }
      )
    );
  });
});
