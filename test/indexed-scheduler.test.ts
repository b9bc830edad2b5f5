import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cancel, createActor, raise, sendTo, setup, SimulatedClock, spawnChild, type AnyActorRef } from 'xstate';
import { indexScheduler } from '../src/xstate-internals.ts';
import { TimerWheel } from '../src/timer-wheel.ts';

type AnyActorSystem = AnyActorRef['system'];
type XState = typeof import('xstate');

interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface ScheduledRecord {
  source: AnyActorRef;
  target: AnyActorRef;
  event: { type: string };
  delay: number;
  id: string;
  startedAt: number;
}

// A peer-like child: one `after` timer, a delayed send without an id on `ping`,
// and `halt` to finish (a child cannot be stopped from outside; it ends itself).
const child = setup({}).createMachine({
  initial: 'waiting',
  on: {
    ping: { actions: sendTo(({ self }) => self, { type: 'pong' }, { delay: 50 }) },
    halt: '.halted'
  },
  states: { waiting: { after: { 100: 'fired' } }, fired: { type: 'final' }, halted: { type: 'final' } }
});
const halt = (actor: AnyActorRef): void => actor.send({ type: 'halt' });
// The same without the `after` timer: it lives until halted.
const pinger = setup({}).createMachine({
  initial: 'running',
  on: { ping: { actions: sendTo(({ self }) => self, { type: 'pong' }, { delay: 50 }) }, halt: '.halted' },
  states: { running: {}, halted: { type: 'final' } }
});
const root = setup({}).createMachine({});

function system(clock: Clock = new SimulatedClock()): { sys: AnyActorSystem; root: AnyActorRef; spawn(logic?: typeof child | typeof pinger): AnyActorRef } {
  const rootActor = createActor(root, { clock });
  const sys = rootActor.system;
  expect(indexScheduler(sys)).toBe(true);
  rootActor.start();
  return {
    sys,
    root: rootActor,
    spawn: (logic = child) => {
      const actor = createActor(logic, { parent: rootActor });
      actor.start();
      return actor;
    }
  };
}

function scheduled(sys: AnyActorSystem): Record<string, ScheduledRecord> {
  return (sys as unknown as { getSnapshot(): { _scheduledEvents: Record<string, ScheduledRecord> } }).getSnapshot()._scheduledEvents;
}

/** A clock that counts what it is asked to do, over XState's SimulatedClock. */
class CountingClock extends SimulatedClock {
  readonly armed: unknown[] = [];
  readonly cleared: unknown[] = [];

  override setTimeout(fn: (...args: any[]) => void, ms: number): number {
    const handle = super.setTimeout(fn, ms);
    this.armed.push(handle);
    return handle;
  }

  override clearTimeout(handle: number): void {
    this.cleared.push(handle);
    super.clearTimeout(handle);
  }

  get pending(): number {
    return (this as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;
  }
}

// A machine exercising every path into the scheduler, logging what it receives:
// `after` (with re-entry), a delayed `raise` with an id, its `cancel`, and a delayed `sendTo` without one.
type ProbeEvent =
  | { type: 'arm'; n: number }
  | { type: 'armAnon' }
  | { type: 'disarm' }
  | { type: 'poke' }
  | { type: 'leave' }
  | { type: 'tick'; n: number }
  | { type: 'anon' }
  | { type: 'halt' };

function probe(lib: XState, log: { push(line: string): unknown }) {
  return lib.setup({ types: {} as { events: ProbeEvent } }).createMachine({
    initial: 'waiting',
    on: {
      arm: { actions: lib.raise(({ event }) => ({ type: 'tick' as const, n: (event as { n: number }).n }), { delay: 50, id: 'tick' }) },
      armAnon: { actions: lib.sendTo(({ self }) => self, { type: 'anon' }, { delay: 30 }) },
      disarm: { actions: lib.cancel('tick') },
      tick: { actions: ({ event }) => log.push(`tick ${event.n}`) },
      anon: { actions: () => log.push('anon') },
      halt: '.halted'
    },
    states: {
      waiting: {
        entry: () => log.push('enter waiting'),
        after: { 100: 'late' },
        on: { poke: { target: 'waiting', reenter: true }, leave: 'idle' }
      },
      idle: {},
      late: { entry: () => log.push('late') },
      halted: { type: 'final' }
    }
  });
}

/** One step of a scenario: let `wait` ms pass, then send `event` to probe `actor`. */
type Step = [wait: number, actor: number, event: ProbeEvent];

interface Run {
  /** What each probe received, with the time. */
  log: string[];
  /** After each step: the snapshot's keys with session ids replaced by probe numbers and random ids by `?`. */
  keys: string[][];
}

/**
 * Runs `steps` against three probes on one system, with or without the indexed scheduler,
 * on a SimulatedClock or on a TimerWheel under fake timers.
 */
function scenario(steps: Step[], options: { indexed: boolean; lib?: XState; wheel?: boolean }): Run {
  const lib = options.lib ?? ({ cancel, createActor, raise, sendTo, setup, SimulatedClock } as unknown as XState);
  const simulated = new lib.SimulatedClock();
  const clock = options.wheel ? new TimerWheel(10) : simulated;
  const log: string[] = [];
  const start = performance.now();
  // Stamped with the clock's time when the probe received it.
  const now = (): number => (options.wheel ? Math.round(performance.now() - start) : simulated.now());
  const stamped = { push: (line: string) => log.push(`${now()} ${line}`) };
  const rootActor = lib.createActor(lib.setup({}).createMachine({}), { clock });
  if (options.indexed) expect(indexScheduler(rootActor.system)).toBe(true);
  rootActor.start();
  const probes = [0, 1, 2].map((index) => {
    const actor = lib.createActor(probe(lib, stamped), { parent: rootActor });
    actor.start();
    return { actor, index };
  });
  const keys: string[][] = [];
  const advance = (ms: number): void => {
    if (options.wheel) vi.advanceTimersByTime(ms);
    // In 5 ms steps, so that the log's times are when each timer was due.
    else for (let step = 0; step < ms; step += 5) simulated.increment(Math.min(5, ms - step));
  };
  for (const [wait, index, event] of steps) {
    advance(wait);
    probes[index]!.actor.send(event);
    const records = (rootActor.system as unknown as { getSnapshot(): { _scheduledEvents: Record<string, ScheduledRecord> } }).getSnapshot()._scheduledEvents;
    keys.push(
      Object.entries(records)
        .map(([key, record]) => {
          const probeIndex = probes.findIndex((p) => p.actor === record.source);
          expect(key).toBe(`${record.source.sessionId}.${record.id}`);
          expect(record.target).toBe(record.source);
          expect(record.event.type).toBe(record.id.startsWith('xstate.after.') ? record.id : record.id === 'tick' ? 'tick' : 'anon');
          const label = record.id.startsWith('xstate.after.') ? 'after' : record.id === 'tick' ? 'tick' : '?';
          return `${probeIndex} ${label} ${record.delay}`;
        })
        .sort()
    );
  }
  advance(500);
  rootActor.stop();
  return { log, keys };
}

// Probes are 0, 1 and 2; every probe enters `waiting` (after: 100 → late) as it starts.
const STEPS: Step[] = [
  [0, 0, { type: 'arm', n: 1 }],
  [10, 1, { type: 'armAnon' }],
  [10, 1, { type: 'arm', n: 2 }],
  [10, 2, { type: 'poke' }], // re-enters: its `after` re-arms at t=30
  [10, 0, { type: 'arm', n: 3 }], // replaces probe 0's pending `tick` (n=1 at t=50)
  [10, 1, { type: 'disarm' }],
  [10, 0, { type: 'leave' }], // exit cancels probe 0's `after`
  [20, 0, { type: 'disarm' }], // after tick 1 fired, XState can no longer cancel tick 3
  [0, 2, { type: 'armAnon' }],
  [5, 2, { type: 'halt' }], // stop: cancels its anon send and its `after`
  [0, 1, { type: 'arm', n: 4 }],
  [60, 1, { type: 'poke' }],
  // Probe 0, in `idle`, has nothing else pending: the same replacement with a single entry.
  [0, 0, { type: 'arm', n: 5 }],
  [20, 0, { type: 'arm', n: 6 }],
  [40, 0, { type: 'disarm' }]
];

describe('indexScheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('matches XState’s own scheduler', () => {
    it('on a SimulatedClock: after-transitions, re-entry, cancel on exit and by id, delayed sends with and without an id, replacement, stop', () => {
      const plain = scenario(STEPS, { indexed: false });
      const indexed = scenario(STEPS, { indexed: true });
      expect(indexed).toEqual(plain);
      // What XState does, spelled out: the time each event arrived.
      expect(plain.log).toEqual([
        '0 enter waiting',
        '0 enter waiting',
        '0 enter waiting',
        '30 enter waiting', // probe 2 re-entered: its `after` re-armed (and was cancelled when it halted at 85)
        '40 anon', // probe 1's send without an id
        '50 tick 1', // probe 0's first tick still fires after its replacement at 40…
        '90 tick 3', // …and so does the replacement, though probe 0 cancelled it at 80 (see indexScheduler)
        '100 late', // probe 1's `after`; probe 0 left `waiting` at 60, and probe 1's tick 2 was cancelled at 50
        '135 tick 4',
        '195 tick 5',
        '215 tick 6'
      ]);
      // Once tick 1 fired, tick 3 is missing from the snapshot although its timer is pending.
      expect(plain.keys[4]).toEqual(['0 after 100', '0 tick 50', '1 after 100', '1 tick 50', '2 after 100']);
      expect(plain.keys[5]).toEqual(['0 after 100', '1 after 100', '2 after 100']);
      expect(plain.keys[8]).toEqual(['1 after 100', '2 ? 30', '2 after 100']);
      expect(plain.keys[9]).toEqual(['1 after 100']);
    });

    it('on the TimerWheel', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const plain = scenario(STEPS, { indexed: false, wheel: true });
      vi.useRealTimers();
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const indexed = scenario(STEPS, { indexed: true, wheel: true });
      expect(indexed).toEqual(plain);
      expect(indexed.log.map((line) => line.replace(/^\d+ /, ''))).toEqual([
        'enter waiting',
        'enter waiting',
        'enter waiting',
        'enter waiting',
        'anon',
        'tick 1',
        'tick 3',
        'late',
        'tick 4',
        'tick 5',
        'tick 6'
      ]);
    });

    it.each(['xstate.cjs.js', 'xstate.development.cjs.js', 'xstate.esm.js', 'xstate.development.esm.js'])('with XState’s build %s', async (file) => {
      const path = fileURLToPath(new URL(`../node_modules/xstate/dist/${file}`, import.meta.url));
      const lib = (file.includes('.cjs.') ? createRequire(import.meta.url)(path) : await import(pathToFileURL(path).href)) as XState;
      expect(scenario(STEPS, { indexed: true, lib })).toEqual(scenario(STEPS, { indexed: false, lib }));
    });
  });

  describe('the system snapshot', () => {
    it('has XState’s shape: `${sessionId}.${id}` → { source, target, event, delay, id, startedAt }', () => {
      const { sys, spawn } = system();
      const before = Date.now();
      const actor = spawn();
      actor.send({ type: 'ping' });
      const records = scheduled(sys);
      const keys = Object.keys(records);
      expect(keys).toHaveLength(2);
      const after = records[`${actor.sessionId}.xstate.after.100.(machine).waiting`]!;
      expect(Object.keys(after)).toEqual(['source', 'target', 'event', 'delay', 'id', 'startedAt']);
      expect(after).toMatchObject({ source: actor, target: actor, delay: 100, id: 'xstate.after.100.(machine).waiting' });
      expect(after.event.type).toBe('xstate.after.100.(machine).waiting');
      expect(after.startedAt).toBeGreaterThanOrEqual(before);
      expect(after.startedAt).toBeLessThanOrEqual(Date.now());
      const pong = Object.values(records).find((record) => record.event.type === 'pong')!;
      expect(pong.id).toMatch(/^[0-9a-z]+$/);
      // Also where XState itself keeps it, computed on read.
      expect((sys as unknown as { _snapshot: { _scheduledEvents: unknown } })._snapshot._scheduledEvents).toEqual(records);
    });

    it('restored events are scheduled by start(), as XState does', () => {
      const clock = new SimulatedClock();
      const seen: string[] = [];
      const target = createActor(setup({}).createMachine({ on: { '*': { actions: ({ event }) => seen.push(event.type) } } }));
      const rootActor = createActor(root, { clock });
      expect(indexScheduler(rootActor.system)).toBe(true);
      const internals = rootActor.system as unknown as { _snapshot: { _scheduledEvents: Record<string, unknown> } };
      internals._snapshot._scheduledEvents = {
        'x:9.later': { source: target, target, event: { type: 'later' }, delay: 40, id: 'later', startedAt: 0 }
      };
      expect(Object.keys(scheduled(rootActor.system))).toEqual(['x:9.later']);
      target.start();
      rootActor.start();
      expect(Object.keys(scheduled(rootActor.system))).toEqual([`${target.sessionId}.later`]);
      clock.increment(39);
      expect(seen).toEqual([]);
      clock.increment(1);
      expect(seen).toEqual(['later']);
      expect(scheduled(rootActor.system)).toEqual({});
    });
  });

  describe('stopping an actor', () => {
    it('cancels its own delayed events and leaves every other actor’s to fire', () => {
      const clock = new SimulatedClock();
      const { sys, spawn } = system(clock);
      const actors = Array.from({ length: 5 }, () => spawn());
      actors[2]!.send({ type: 'ping' });
      halt(actors[2]!);
      expect(Object.keys(scheduled(sys))).toHaveLength(4);
      clock.increment(100);
      expect(actors.map((actor) => actor.getSnapshot().value)).toEqual(['fired', 'fired', 'halted', 'fired', 'fired']);
      expect(Object.keys(scheduled(sys))).toHaveLength(0);
    });

    it('cancels a delayed send that was given no id', () => {
      const clock = new SimulatedClock();
      const { sys, spawn } = system(clock);
      const actor = spawn();
      const seen: string[] = [];
      actor.subscribe({ next: () => seen.push('snapshot') });
      actor.send({ type: 'ping' });
      expect(Object.keys(scheduled(sys))).toHaveLength(2);
      halt(actor);
      expect(Object.keys(scheduled(sys))).toHaveLength(0);
      clock.increment(60);
      expect(seen).toHaveLength(2); // the ping and the halt; the pong never came
    });

    it('stopping the root clears every timer of every child', () => {
      let spawned = 0;
      const parent = setup({ actors: { child } }).createMachine({
        on: { spawn: { actions: spawnChild('child', { id: () => `child ${spawned++}` }) } }
      });
      const pendingAfterStop = (indexed: boolean): number[] => {
        const clock = new CountingClock();
        const rootActor = createActor(parent, { clock });
        if (indexed) expect(indexScheduler(rootActor.system)).toBe(true);
        rootActor.start();
        for (let i = 0; i < 20; i++) rootActor.send({ type: 'spawn' });
        for (const actor of Object.values(rootActor.getSnapshot().children)) (actor as AnyActorRef).send({ type: 'ping' });
        const before = clock.pending;
        rootActor.stop();
        expect(scheduled(rootActor.system)).toEqual({});
        return [before, clock.pending];
      };
      expect(pendingAfterStop(true)).toEqual([40, 0]);
      expect(pendingAfterStop(false)).toEqual([40, 0]);
    });

    it('of 10 000, touches only its own timers', () => {
      const clock = new CountingClock();
      const { sys, spawn } = system(clock);
      const actors = Array.from({ length: 10_000 }, () => spawn());
      const victim = actors[4_321]!;
      const before = clock.armed.length;
      victim.send({ type: 'ping' });
      const own = [clock.armed[4_321], ...clock.armed.slice(before)]; // its `after` timer, then its pong
      expect(own).toHaveLength(2);
      // Watch every Map and Set iterated while the actor stops (XState's clock and system use them too).
      let largest = 0;
      const originals = new Map<object, Record<string | symbol, unknown>>();
      for (const proto of [Map.prototype, Set.prototype]) {
        const saved: Record<string | symbol, unknown> = {};
        for (const name of ['entries', 'values', 'keys', 'forEach', Symbol.iterator] as const) {
          const original = (proto as unknown as Record<string | symbol, (...args: unknown[]) => unknown>)[name]!;
          saved[name] = original;
          Object.defineProperty(proto, name, {
            configurable: true,
            writable: true,
            value: function (this: Map<unknown, unknown>, ...args: unknown[]) {
              largest = Math.max(largest, this.size);
              return original.apply(this, args);
            }
          });
        }
        originals.set(proto, saved);
      }
      try {
        halt(victim);
      } finally {
        for (const [proto, saved] of originals) {
          for (const name of Reflect.ownKeys(saved)) Object.defineProperty(proto, name, { configurable: true, writable: true, value: saved[name] });
        }
      }
      expect(largest).toBeLessThan(10);
      expect(clock.cleared.sort()).toEqual(own.sort());
      expect(clock.pending).toBe(9_999);
      expect(Object.keys(scheduled(sys))).toHaveLength(9_999);
      clock.increment(100);
      expect(actors.filter((actor) => actor.getSnapshot().value === 'fired')).toHaveLength(9_999);
      expect(clock.pending).toBe(0);
    });
  });

  describe('a long-lived actor', () => {
    it('still cancels what is pending after hundreds of delayed sends have fired', () => {
      const clock = new CountingClock();
      const { sys, spawn } = system(clock);
      const actor = spawn(pinger);
      for (let i = 0; i < 300; i++) {
        actor.send({ type: 'ping' });
        actor.send({ type: 'ping' });
        clock.increment(50);
      }
      actor.send({ type: 'ping' });
      expect(Object.keys(scheduled(sys))).toHaveLength(1);
      halt(actor);
      expect(Object.keys(scheduled(sys))).toHaveLength(0);
      expect(clock.pending).toBe(0);
    });
  });

  describe('leaves alone', () => {
    it('a system of another shape', () => {
      expect(indexScheduler({} as AnyActorSystem)).toBe(false);
    });

    it('a system whose events XState’s scheduler already holds', () => {
      const clock = new SimulatedClock();
      const rootActor = createActor(root, { clock });
      rootActor.start();
      createActor(child, { parent: rootActor }).start();
      const { scheduler } = rootActor.system as unknown as { scheduler: Record<string, unknown> };
      const methods = { ...scheduler };
      expect(indexScheduler(rootActor.system)).toBe(false);
      expect({ ...scheduler }).toEqual(methods);
    });
  });
});
