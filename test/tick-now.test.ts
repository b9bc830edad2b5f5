import { afterEach, describe, expect, it, vi } from 'vitest';
import { tickNow } from '../src/tick-now.ts';

describe('tickNow', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads Date.now() once per synchronous run and returns that value throughout it', async () => {
    await Promise.resolve(); // start from a fresh tick
    const now = vi.spyOn(Date, 'now').mockReturnValue(1000);
    const first = tickNow();
    now.mockReturnValue(2000);
    const readings = Array.from({ length: 100 }, () => tickNow());
    expect(first).toBe(1000);
    expect(new Set(readings)).toEqual(new Set([1000]));
    expect(now).toHaveBeenCalledTimes(1);
  });

  it('reads the clock again after the next microtask checkpoint', async () => {
    await Promise.resolve();
    const now = vi.spyOn(Date, 'now').mockReturnValue(1000);
    expect(tickNow()).toBe(1000);
    now.mockReturnValue(2000);
    await Promise.resolve();
    expect(tickNow()).toBe(2000);
    await new Promise((resolve) => setImmediate(resolve));
    now.mockReturnValue(3000);
    expect(tickNow()).toBe(3000);
    expect(now).toHaveBeenCalledTimes(3);
  });

  it('is epoch milliseconds, like Date.now()', () => {
    const before = Date.now();
    const at = tickNow();
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});
