import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeBackoff } from '../machines/backoff.ts';
import type { BackoffPolicy } from '../machines/backoff.ts';
import { seededRandom } from './helpers/seeded-random.ts';

const never = (): number => {
  throw new Error('random() must not be called when no jitter applies');
};

const attempts = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('computeBackoff', () => {
  describe('without jitter', () => {
    const policy: BackoffPolicy = { initialDelay: 1000, maxDelay: 5000, jitter: 0 };

    it('gives 0, 1000, 2000, 4000, 5000, 5000 for attempts 1 to 6', () => {
      expect(attempts(1, 6).map((n) => computeBackoff(n, policy, never))).toEqual([0, 1000, 2000, 4000, 5000, 5000]);
    });

    it('retries the first time immediately, and treats attempt 0 or less the same', () => {
      expect([-5, 0, 1].map((n) => computeBackoff(n, policy, never))).toEqual([0, 0, 0]);
    });

    it('floors fractional attempts and treats NaN as attempt 0', () => {
      expect(computeBackoff(3.9, policy, never)).toBe(2000);
      expect(computeBackoff(1.5, policy, never)).toBe(0);
      expect(computeBackoff(Number.NaN, policy, never)).toBe(0);
    });

    it('stays exactly at maxDelay for huge and infinite attempts', () => {
      for (const n of [1e3, 1e6, 1e12, Number.MAX_VALUE, Number.POSITIVE_INFINITY]) {
        expect(computeBackoff(n, policy, never)).toBe(5000);
      }
    });
  });

  describe('with jitter 0.5', () => {
    const policy: BackoffPolicy = { initialDelay: 1000, maxDelay: 60_000, jitter: 0.5 };
    const base = (n: number): number => 1000 * 2 ** (n - 2);

    function expectWithinQuarter(random: () => number): void {
      for (const n of attempts(2, 7)) {
        const delay = computeBackoff(n, policy, random);
        expect(delay).toBeGreaterThanOrEqual(0.75 * base(n));
        expect(delay).toBeLessThanOrEqual(Math.min(1.25 * base(n), policy.maxDelay));
      }
    }

    it('keeps each delay within ±25 % of its base for random() = 0, 0.5 and 0.999999', () => {
      for (const value of [0, 0.5, 0.999999]) expectWithinQuarter(() => value);
    });

    it('keeps each delay within ±25 % of its base for a seeded random source', () => {
      for (const seed of [1, 42, 2024]) expectWithinQuarter(seededRandom(seed));
    });

    it('hits the edges of the jitter range', () => {
      expect(computeBackoff(3, policy, () => 0)).toBe(1500);
      expect(computeBackoff(3, policy, () => 0.5)).toBe(2000);
      expect(computeBackoff(3, policy, () => 0.999999)).toBe(2500);
    });

    it('caps a jittered delay at maxDelay', () => {
      // base 32 000 · 1.25 would be 40 000
      expect(computeBackoff(7, { ...policy, maxDelay: 35_000 }, () => 0.999999)).toBe(35_000);
    });

    it('returns exactly maxDelay once the base reaches it, without calling random()', () => {
      expect(computeBackoff(8, policy, never)).toBe(60_000);
    });
  });

  describe('with a misbehaving random source', () => {
    const policy: BackoffPolicy = { initialDelay: 1000, maxDelay: 60_000, jitter: 0.5 };

    it('treats NaN or a non-number as 0.5', () => {
      expect(computeBackoff(3, policy, () => Number.NaN)).toBe(2000);
      expect(computeBackoff(3, policy, () => 'x' as unknown as number)).toBe(2000);
    });

    it('clamps values outside [0, 1)', () => {
      expect(computeBackoff(3, policy, () => -3)).toBe(1500);
      expect(computeBackoff(3, policy, () => 7)).toBe(2500);
      expect(computeBackoff(3, policy, () => Number.POSITIVE_INFINITY)).toBe(2500);
    });
  });

  describe('properties', () => {
    const delay = fc.double({ min: 0, max: 1e9, minExcluded: true, noNaN: true });
    const policyArb = fc
      .record({ a: fc.oneof(delay, fc.integer({ min: 1, max: 1e9 })), b: delay, jitter: fc.double({ min: 0, max: 1, noNaN: true }) })
      .map(({ a, b, jitter }): BackoffPolicy => ({ initialDelay: Math.min(a, b), maxDelay: Math.max(a, b), jitter }));
    const attemptArb = fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.double(), fc.constant(Number.NaN));
    const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

    it('always returns a finite integer between 0 and maxDelay', () => {
      fc.assert(
        fc.property(attemptArb, policyArb, randomArb, (attempt, policy, r) => {
          const result = computeBackoff(attempt, policy, () => r);
          expect(Number.isInteger(result)).toBe(true);
          expect(result).toBeGreaterThanOrEqual(0);
          expect(result).toBeLessThanOrEqual(policy.maxDelay);
        }),
        { numRuns: 2000 }
      );
    });

    it('never decreases as the attempt grows when jitter is 0', () => {
      const finiteAttempt = fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.double({ min: 0, max: 1e6, noNaN: true }));
      fc.assert(
        fc.property(finiteAttempt, finiteAttempt, policyArb, (x, y, policy) => {
          const flat = { ...policy, jitter: 0 };
          const [low, high] = x <= y ? [x, y] : [y, x];
          expect(computeBackoff(low, flat, never)).toBeLessThanOrEqual(computeBackoff(high, flat, never));
        }),
        { numRuns: 2000 }
      );
    });
  });
});
