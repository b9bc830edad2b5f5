import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerWheel } from '../src/timer-wheel.ts';

describe('TimerWheel', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs every callback no earlier than its delay and at most one resolution late, by bucket then scheduling order, on one Node timer', () => {
    const wheel = new TimerWheel(10);
    const ran: Array<[string, number]> = [];
    const start = performance.now();
    for (const [name, ms] of [
      ['c', 250],
      ['a', 3],
      ['b', 40],
      ['a2', 3],
      ['z', 0]
    ] as const) {
      wheel.setTimeout(() => ran.push([name, performance.now() - start]), ms);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(300);
    expect(ran.map(([name]) => name)).toEqual(['a', 'a2', 'z', 'b', 'c']);
    const delays: Record<string, number> = { a: 3, a2: 3, b: 40, c: 250, z: 0 };
    for (const [name, at] of ran) {
      expect(at).toBeGreaterThanOrEqual(delays[name]!);
      expect(at).toBeLessThanOrEqual(delays[name]! + 10);
    }
    expect(wheel.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('skips cancelled callbacks and clears its Node timer once nothing is pending', () => {
    const wheel = new TimerWheel(10);
    const ran: string[] = [];
    const first = wheel.setTimeout(() => ran.push('first'), 50);
    wheel.setTimeout(() => ran.push('second'), 80);
    const third = wheel.setTimeout(() => ran.push('third'), 10_000);
    wheel.clearTimeout(first);
    wheel.clearTimeout(first);
    vi.advanceTimersByTime(100);
    expect(ran).toEqual(['second']);
    expect(wheel.pending).toBe(1);
    wheel.clearTimeout(third);
    expect(wheel.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs a callback scheduled by a callback in a later turn, and re-arms for earlier work', () => {
    const wheel = new TimerWheel(10);
    const ran: string[] = [];
    wheel.setTimeout(() => {
      ran.push('outer');
      wheel.setTimeout(() => ran.push('inner'), 0);
      expect(ran).toEqual(['outer']);
    }, 20);
    wheel.setTimeout(() => ran.push('late'), 1000);
    vi.advanceTimersByTime(30);
    expect(ran).toEqual(['outer']);
    vi.advanceTimersByTime(20);
    expect(ran).toEqual(['outer', 'inner']);
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(['outer', 'inner', 'late']);
  });

  it('waits past the longest Node timer without firing early', () => {
    const wheel = new TimerWheel(10);
    let ran = false;
    wheel.setTimeout(() => (ran = true), 2 ** 31 + 5000);
    vi.advanceTimersByTime(2 ** 31 - 10);
    expect(ran).toBe(false);
    vi.advanceTimersByTime(6000);
    expect(ran).toBe(true);
  });

  it('a throwing callback does not stop the others of its bucket', () => {
    const wheel = new TimerWheel(10);
    const ran: string[] = [];
    const errors: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => {
      try {
        task();
      } catch (error) {
        errors.push(error);
      }
    };
    try {
      wheel.setTimeout(() => {
        throw new Error('boom');
      }, 5);
      wheel.setTimeout(() => ran.push('after'), 5);
      vi.advanceTimersByTime(20);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(ran).toEqual(['after']);
    expect(errors).toEqual([new Error('boom')]);
  });
});
