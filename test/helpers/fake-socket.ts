import { createActor, SimulatedClock, type Actor } from 'xstate';
import type { CloseCause, SocketCommand, WorkerEmitted } from '../../machines/worker-events.ts';
import { createTestLink, type TestDial, type TestLink } from '../../src/testkit/test-link.ts';
import { workerMachine, type WorkerTiming } from '../../machines/worker-machine.ts';
import { createFakeHook, type FakeHook } from './fake-hook.ts';

/** One dial of the fake socket: the test plays the peer. */
export interface FakeSocketInstance {
  /** 1-based dial number. */
  readonly dial: number;
  /** Clock time at which the worker started this dial. */
  readonly startedAt: number;
  /** Every command the worker gave this dial (`link.ping` / `link.close`), in order. */
  readonly commands: SocketCommand[];
  /** Dialed, not released and not crashed. */
  readonly live: boolean;
  /** True once the worker released this dial (`link.release`). */
  readonly cleanedUp: boolean;
  /** True if the fake threw from `dial`, `ping` or `close` (a dial that threw on a command stays live until released). */
  readonly crashed: boolean;
  /** The handshake completed: reports `socket.open`. */
  open(): void;
  /** The dial failed: reports `socket.failed`. */
  fail(error?: string): void;
  /** The open socket closed: reports `socket.closed`. */
  close(code?: number, reason?: string, cause?: CloseCause): void;
  /** Makes the next command this dial receives throw. */
  crashOnNextCommand(): void;
}

/** A controllable stand-in for the socket side of a test link, with crashes on demand. */
export interface FakeSocket {
  /** Every dial ever started, in order. */
  readonly instances: readonly FakeSocketInstance[];
  /** The most recent dial (throws if none was started). */
  readonly current: FakeSocketInstance;
  /** How many dials were started. */
  readonly dials: number;
  /** How many dials are live right now. */
  readonly live: number;
  /** The most dials that were ever live at the same time. */
  readonly maxLive: number;
  /** Every command received by any dial, in order. */
  commands(type?: SocketCommand['type']): SocketCommand[];
  /** True if every dial but the live one (if any) was released or crashed. */
  allStoppedCleanedUp(): boolean;
  /** Makes the next `dial` throw. */
  crashNextStart(): void;
}

export interface FakeSocketOptions {
  /** Clock for `startedAt`; defaults to 0 everywhere. */
  now?: () => number;
  /** Called synchronously when a dial starts, e.g. to fail every dial at once. */
  onStart?: (instance: FakeSocketInstance) => void;
}

// The test link records a command as `'ping'` or `{ code, reason }`; the fake speaks `SocketCommand`.
function asSocketCommand(command: TestDial['commands'][number]): SocketCommand {
  return command === 'ping' ? { type: 'socket.ping' } : { type: 'socket.close', ...command };
}

/**
 * Drives `link`'s dials (the test link's fake sockets) and adds what machine
 * tests need on top: dial numbers and start times, live counts, and crashes
 * on demand (a `dial`, `ping` or `close` that throws).
 */
export function createFakeSocket(link: TestLink, options: FakeSocketOptions = {}): FakeSocket {
  const now = options.now ?? (() => 0);
  const instances: FakeSocketInstance[] = [];
  let maxLive = 0;
  let crashAtStart = false;
  const liveCount = (): number => instances.filter((instance) => instance.live).length;

  const { dial, ping, close } = link;
  link.dial = (report) => {
    const number = instances.length + 1;
    if (crashAtStart) {
      crashAtStart = false;
      instances.push(crashedAtStart(number, now()));
      throw new Error(`fake socket #${number} crashed while dialing`);
    }
    dial(report);
    const instance = driving(link.dials.at(-1) as TestDial, number, now());
    instances.push(instance);
    maxLive = Math.max(maxLive, liveCount());
    options.onStart?.(instance);
  };
  // A command the current dial was asked to crash on is recorded, then throws.
  const crashing = (type: SocketCommand['type']): void => {
    const instance = instances.at(-1) as (FakeSocketInstance & { takeCrash(): boolean }) | undefined;
    if (instance?.live === true && instance.takeCrash()) throw new Error(`fake socket #${instance.dial} crashed on ${type}`);
  };
  link.ping = () => {
    ping();
    crashing('socket.ping');
  };
  link.close = (code, reason) => {
    close(code, reason);
    crashing('socket.close');
  };

  return {
    instances,
    get current() {
      const last = instances.at(-1);
      if (last === undefined) throw new Error('no fake socket was started yet');
      return last;
    },
    get dials() {
      return instances.length;
    },
    get live() {
      return liveCount();
    },
    get maxLive() {
      return maxLive;
    },
    commands: (type) => instances.flatMap((i) => i.commands).filter((c) => type === undefined || c.type === type),
    allStoppedCleanedUp: () => instances.every((i) => (i.live ? i === instances.at(-1) : i.cleanedUp || i.crashed)),
    crashNextStart: () => {
      crashAtStart = true;
    }
  };
}

/** A fake dial over one of the test link's dials. */
function driving(dial: TestDial, number: number, startedAt: number): FakeSocketInstance & { takeCrash(): boolean } {
  let crashOnCommand = false;
  let threw = false;
  return {
    dial: number,
    startedAt,
    get commands() {
      return dial.commands.map(asSocketCommand);
    },
    get live() {
      return !dial.released;
    },
    get cleanedUp() {
      return dial.released;
    },
    get crashed() {
      return threw;
    },
    open: () => dial.open(),
    fail: (error) => dial.fail(error),
    close: (code, reason, cause) => dial.close(code, reason, cause),
    crashOnNextCommand: () => {
      crashOnCommand = true;
    },
    takeCrash: () => {
      if (!crashOnCommand) return false;
      crashOnCommand = false;
      threw = true;
      return true;
    }
  };
}

/** A dial that threw before it started: never live, never reports. */
function crashedAtStart(number: number, startedAt: number): FakeSocketInstance {
  const nothing = (): void => {};
  return {
    dial: number,
    startedAt,
    commands: [],
    live: false,
    cleanedUp: false,
    crashed: true,
    open: nothing,
    fail: nothing,
    close: nothing,
    crashOnNextCommand: nothing
  };
}

/** Options for `makeTiming`; `retry` may be given in part. */
export type TimingOverrides = Partial<Omit<WorkerTiming, 'retry'>> & { retry?: Partial<WorkerTiming['retry']> };

/**
 * Small timings for machine tests. Ping and keepalive are off unless a test
 * turns them on, so they never interfere with tests of other timers.
 */
export function makeTiming(overrides: TimingOverrides = {}): WorkerTiming {
  const { retry, ...rest } = overrides;
  return {
    reconnectDelay: 100,
    minUptime: 1000,
    keepaliveTimeout: 0,
    pingInterval: 0,
    handshakeTimeout: 500,
    closeTimeout: 200,
    ...rest,
    retry: { maxRetries: 0, initialDelay: 1000, maxDelay: 5000, jitter: 0, ...retry }
  };
}

/** The epoch time the simulated clock starts at, so `at` values look like real timestamps. */
export const T0 = 1_700_000_000_000;

export interface StartWorkerOptions {
  timing?: TimingOverrides;
  /** Random source for jitter; default a constant 0.5. */
  random?: () => number;
  onStart?: FakeSocketOptions['onStart'];
  id?: string;
  /** Start the link's `lastActivityAt` here; default the clock's start (T0). */
  lastActivityAt?: number;
  /** Turn the `hasHandshake` guard on, so `socket.open` leads to `handshaking`. */
  handshake?: boolean;
  /** `false` leaves the `hasConnectionHook` guard off, as in the default machine (the harness turns it on). */
  connectionHook?: boolean;
}

export interface WorkerHarness {
  actor: Actor<typeof workerMachine>;
  clock: SimulatedClock;
  link: TestLink;
  events: WorkerEmitted[];
  fake: FakeSocket;
  /** Fakes of the `handshake` and `connection` hook actors. */
  hooks: { handshake: FakeHook; connection: FakeHook };
  /** Errors reported by the worker actor (there should never be any). */
  errors: unknown[];
  /**
   * Fires what is due now (a 0 ms wait is 0 ms), then advances the clock 1 ms
   * at a time, so timers set while flushing start at the right time.
   */
  advance(ms: number, onStep?: () => void): void;
  /** Advances until the next dial starts; returns the ms that took (throws after `limit`). */
  untilNextDial(limit?: number): number;
  /** The tags of the current snapshot, sorted. */
  tags(): string[];
  /** Emitted events of one type. */
  emitted<T extends WorkerEmitted['type']>(type: T): Array<Extract<WorkerEmitted, { type: T }>>;
}

/** Starts a worker machine whose link has a fake socket, on a simulated clock that reads T0 at start. */
export function startWorker(options: StartWorkerOptions = {}): WorkerHarness {
  const clock = new SimulatedClock();
  clock.set(T0);
  const link = createTestLink(options.lastActivityAt ?? T0);
  const fake = createFakeSocket(link, { now: () => clock.now(), ...(options.onStart ? { onStart: options.onStart } : {}) });
  const random = options.random ?? (() => 0.5);
  const hooks = { handshake: createFakeHook(), connection: createFakeHook() };
  const logic = workerMachine.provide({
    actors: { handshake: hooks.handshake.logic, connection: hooks.connection.logic },
    guards: { hasHandshake: () => options.handshake === true, hasConnectionHook: () => options.connectionHook !== false }
  });
  const actor = createActor(logic, {
    clock,
    input: {
      id: options.id ?? 'ws://127.0.0.1:7000',
      link,
      timing: makeTiming(options.timing),
      now: () => clock.now(),
      random
    }
  });
  const events: WorkerEmitted[] = [];
  const errors: unknown[] = [];
  // The machine's `worker.ended` is for its host, not one of the lifecycle events these tests read.
  actor.on('*', (event) => void (event.type === 'worker.ended' || events.push(event)));
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  const advance = (ms: number, onStep?: () => void): void => {
    clock.increment(0);
    for (let i = 0; i < ms; i += 1) {
      clock.increment(1);
      onStep?.();
    }
  };
  return {
    actor,
    clock,
    link,
    events,
    fake,
    hooks,
    errors,
    advance,
    untilNextDial(limit = 100_000) {
      const start = clock.now();
      const dials = fake.dials;
      clock.increment(0);
      while (fake.dials === dials) {
        if (clock.now() - start >= limit) throw new Error(`no dial within ${limit} ms`);
        clock.increment(1);
      }
      return clock.now() - start;
    },
    tags: () => [...actor.getSnapshot().tags].sort(),
    emitted: (type) => events.filter((e) => e.type === type) as never
  };
}

export { seededRandom } from './seeded-random.ts';
