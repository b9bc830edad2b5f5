import { describe, expect, it, vi } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { createTestLink } from '../src/testkit/test-link.ts';
import { heartbeatDelay, nextPingAt, workerMachine, type WorkerContext } from '../machines/worker-machine.ts';
import { makeTiming, seededRandom, startWorker, T0, type TimingOverrides, type WorkerHarness } from './helpers/fake-socket.ts';

const ID = 'ws://127.0.0.1:7000';

const types = (w: WorkerHarness): string[] => w.events.map((e) => e.type);

/** Opens the current dial, keeps it up `uptime` ms, closes it; returns the wait until the next dial. */
function flap(w: WorkerHarness, uptime: number): number {
  w.fake.current.open();
  w.advance(uptime);
  w.fake.current.close(1006, '', 'network_error');
  return w.untilNextDial();
}

describe('dialing', () => {
  it('starts exactly one dial when the worker starts', () => {
    const w = startWorker();
    expect(w.tags()).toEqual(['dialing']);
    expect(w.fake.dials).toBe(1);
    expect(w.fake.live).toBe(1);
    expect(w.events).toEqual([]);
  });

  it('enters connected and emits connected stamped with the clock time when the socket opens', () => {
    const w = startWorker();
    w.advance(250);
    w.fake.current.open();
    expect(w.tags()).toEqual(['connected']);
    expect(w.events).toEqual([{ type: 'connected', id: ID, at: T0 + 250 }]);
    expect(w.actor.getSnapshot().context.connections).toBe(1);
  });

  it('fails the dial with a handshake error when the socket does not open within handshakeTimeout, and stops that socket', () => {
    const w = startWorker({ timing: { handshakeTimeout: 500 } });
    w.advance(499);
    expect(w.tags()).toEqual(['dialing']);
    expect(w.events).toEqual([]);
    w.advance(1);
    expect(w.events).toEqual([{ type: 'dial_failed', id: ID, at: T0 + 500, attempt: 1, error: 'handshake timed out after 500 ms' }]);
    expect(w.fake.instances[0]?.cleanedUp).toBe(true);
    expect(w.fake.live).toBe(0);
  });

  it('reports the socket error text in dial_failed and stops the failed socket', () => {
    const w = startWorker();
    w.fake.current.fail('connect ECONNREFUSED 127.0.0.1:9');
    expect(w.tags()).toEqual(['backoff']);
    expect(w.events).toEqual([{ type: 'dial_failed', id: ID, at: T0, attempt: 1, error: 'connect ECONNREFUSED 127.0.0.1:9' }]);
    expect(w.fake.current.cleanedUp).toBe(true);
    expect(w.actor.getSnapshot().context.lastError).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });

  it('keeps at most one socket live however many failure and close triggers pile up', () => {
    const w = startWorker();
    const liveSeen: number[] = [];
    const pileUp = (): void => {
      w.fake.current.fail('refused');
      w.fake.current.fail('refused again'); // from a socket already stopped: dropped
      w.actor.send({ type: 'socket.failed', error: 'stray' });
      w.actor.send({ type: 'socket.closed', code: 1006, reason: '', cause: 'network_error' });
      w.actor.send({ type: 'socket.failed', error: 'stray' });
      liveSeen.push(w.fake.live);
    };
    pileUp(); // attempt 1: retried at once
    w.advance(1, () => liveSeen.push(w.fake.live));
    expect(w.fake.dials).toBe(2);
    pileUp(); // attempt 2: retried after 1000 ms
    w.advance(1000, () => liveSeen.push(w.fake.live));
    expect(w.fake.dials).toBe(3);
    pileUp(); // attempt 3: retried after 2000 ms
    w.advance(1999, () => liveSeen.push(w.fake.live));
    expect(w.fake.dials).toBe(3);
    w.advance(1);
    expect(w.fake.dials).toBe(4);
    expect(w.emitted('dial_failed').map((e) => [e.attempt, e.error])).toEqual([
      [1, 'refused'],
      [2, 'refused'],
      [3, 'refused']
    ]);
    expect(Math.max(...liveSeen)).toBe(1);
    expect(w.fake.maxLive).toBe(1);
    expect(w.fake.live).toBe(1);
    expect(w.fake.allStoppedCleanedUp()).toBe(true);
  });

  it('goes to backoff, not error, when the link throws while dialing', () => {
    const w = startWorker();
    w.fake.current.fail('refused');
    w.fake.crashNextStart();
    w.advance(1);
    expect(w.fake.dials).toBe(2);
    expect(w.fake.instances[1]?.crashed).toBe(true);
    expect(w.emitted('dial_failed').map((e) => e.error)).toEqual(['refused', 'socket adapter failed: fake socket #2 crashed while dialing']);
    expect(w.actor.getSnapshot().status).toBe('active');
    expect(w.tags()).toEqual(['backoff']);
    expect(w.errors).toEqual([]);
    w.advance(1000);
    expect(w.fake.dials).toBe(3);
    expect(w.fake.current.live).toBe(true);
  });
});

// The `hasHandshake` hook is off by default: these tests turn it on and drive a fake `handshake` actor.
describe('handshaking', () => {
  /** A worker with the handshake on, whose socket opened at T0 + 200. */
  function opened(handshakeTimeout = 500): WorkerHarness {
    const w = startWorker({ handshake: true, timing: { handshakeTimeout } });
    w.advance(200);
    w.fake.current.open();
    return w;
  }

  it('stays dialing after the socket opens and starts the handshake hook with { id, link }', () => {
    const w = opened();
    expect(w.tags()).toEqual(['dialing', 'handshaking']);
    expect(w.hooks.handshake.current.input).toEqual({ id: ID, link: w.link });
    expect(w.hooks.connection.instances).toHaveLength(0);
    expect(w.events).toEqual([]);
  });

  it('enters connected and emits connected when the hook reports handshake.done, and stops the hook', () => {
    const w = opened();
    w.advance(30);
    w.hooks.handshake.current.report({ type: 'handshake.done' });
    expect(w.tags()).toEqual(['connected']);
    expect(w.events).toEqual([{ type: 'connected', id: ID, at: T0 + 230 }]);
    expect(w.hooks.handshake.live).toBe(0);
    expect(w.hooks.connection.live).toBe(1);
  });

  it('counts a failed dial with the error of handshake.failed, stops the socket and backs off', () => {
    const w = opened();
    w.hooks.handshake.current.report({ type: 'handshake.failed', error: 'refused by the peer' });
    expect(w.events).toEqual([{ type: 'dial_failed', id: ID, at: T0 + 200, attempt: 1, error: 'refused by the peer' }]);
    expect(w.tags()).toEqual(['backoff']);
    expect(w.fake.current.cleanedUp).toBe(true);
    expect(w.hooks.handshake.live).toBe(0);
  });

  it('fails the dial when the handshake is not done within handshakeTimeout of the socket opening', () => {
    const w = opened(500);
    w.advance(499);
    expect(w.tags()).toEqual(['dialing', 'handshaking']);
    w.advance(1);
    expect(w.emitted('dial_failed')).toEqual([
      { type: 'dial_failed', id: ID, at: T0 + 700, attempt: 1, error: 'handshake not done within 500 ms of the socket opening' }
    ]);
  });

  it.each<[string, (w: WorkerHarness) => void, string]>([
    ['the socket closes', (w) => w.fake.current.close(4001, 'go away'), 'socket closed with code 4001 during the handshake'],
    ['the hook crashes', (w) => w.hooks.handshake.current.crash(), 'fake hook crashed']
  ])('fails the dial, not the worker, when %s during the handshake', (_name, breakIt, error) => {
    const w = opened();
    breakIt(w);
    expect(w.emitted('dial_failed').map((e) => e.error)).toEqual([error]);
    expect(w.tags()).toEqual(['backoff']);
    expect(w.errors).toEqual([]);
  });

  it('stops at once and silently during the handshake', () => {
    const w = opened();
    w.actor.send({ type: 'worker.stop' });
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(w.events).toEqual([]);
    expect(w.fake.current.cleanedUp).toBe(true);
    expect(w.hooks.handshake.live).toBe(0);
  });
});

describe('backoff', () => {
  it('waits 0, 1000, 2000, 4000, 5000, 5000 ms between refused dials with jitter 0', () => {
    const w = startWorker({
      onStart: (socket) => socket.fail('refused'),
      timing: { retry: { initialDelay: 1000, maxDelay: 5000, jitter: 0 } }
    });
    const waits = Array.from({ length: 6 }, () => w.untilNextDial());
    expect(waits).toEqual([0, 1000, 2000, 4000, 5000, 5000]);
    expect(w.emitted('dial_failed').map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(w.emitted('dial_failed').map((e) => e.at - T0)).toEqual([0, 0, 1000, 3000, 7000, 12000, 17000]);
    expect(w.actor.getSnapshot().status).toBe('active');
    expect(w.fake.maxLive).toBe(1);
  });

  it('scales each wait below the cap by the jitter factor drawn from random', () => {
    const w = startWorker({
      onStart: (socket) => socket.fail('refused'),
      random: () => 0, // factor 1 − 0.5/2 = 0.75
      timing: { retry: { initialDelay: 1000, maxDelay: 5000, jitter: 0.5 } }
    });
    const waits = Array.from({ length: 5 }, () => w.untilNextDial());
    expect(waits).toEqual([0, 750, 1500, 3000, 5000]);
  });

  it('retires after maxRetries 3: four dial_failed with attempts 1 to 4, then retired and done', () => {
    const w = startWorker({ onStart: (socket) => socket.fail('refused'), timing: { retry: { maxRetries: 3 } } });
    w.advance(10_000);
    expect(types(w)).toEqual(['dial_failed', 'dial_failed', 'dial_failed', 'dial_failed', 'retired']);
    expect(w.emitted('dial_failed').map((e) => e.attempt)).toEqual([1, 2, 3, 4]);
    expect(w.emitted('retired')).toEqual([{ type: 'retired', id: ID, at: T0 + 3000, attempts: 4 }]);
    const snapshot = w.actor.getSnapshot();
    expect(snapshot.status).toBe('done');
    expect(snapshot.output).toEqual({ retired: true, attempts: 4 });
    expect(w.tags()).toEqual(['stopped']);
    expect(w.fake.dials).toBe(4);
    expect(w.fake.live).toBe(0);
    expect(w.fake.allStoppedCleanedUp()).toBe(true);
  });

  it('reports retired false in its output when stopped after flapping past maxRetries', () => {
    const w = startWorker({ timing: { minUptime: 1000, retry: { maxRetries: 2 } } });
    for (let i = 0; i < 3; i += 1) flap(w, 50);
    expect(w.actor.getSnapshot().context.attempt).toBe(3);
    w.actor.send({ type: 'worker.stop' });
    expect(w.emitted('retired')).toEqual([]);
    expect(w.actor.getSnapshot().output).toEqual({ retired: false, attempts: 3 });
  });

  it('waits exactly reconnectDelay after a remote close, not one ms less', () => {
    const w = startWorker({ timing: { reconnectDelay: 100, minUptime: 1000 } });
    w.fake.current.open();
    w.advance(2000);
    w.fake.current.close(4001, 'bye', 'remote_error');
    expect(w.events.at(-1)).toEqual({
      type: 'disconnected',
      id: ID,
      at: T0 + 2000,
      code: 4001,
      reason: 'bye',
      cause: 'remote_error'
    });
    expect(w.tags()).toEqual(['backoff']);
    expect(w.fake.instances[0]?.cleanedUp).toBe(true);
    w.advance(99);
    expect(w.fake.dials).toBe(1);
    w.advance(1);
    expect(w.fake.dials).toBe(2);
    expect(w.fake.current.startedAt).toBe(T0 + 2100);
    expect(w.tags()).toEqual(['dialing']);
  });

  it.each([
    [0, 750],
    [0.999999, 1250]
  ])('spreads reconnectDelay by the retry jitter (random %s → wait %s ms), so peers of a restarted server do not redial at once', (r, wait) => {
    const w = startWorker({
      random: () => r,
      timing: { reconnectDelay: 1000, minUptime: 1000, retry: { initialDelay: 1000, maxDelay: 60_000, jitter: 0.5 } }
    });
    w.fake.current.open();
    w.advance(2000);
    w.fake.current.close(1001, 'restart', 'remote_close');
    w.advance(wait - 1);
    expect(w.fake.dials).toBe(1);
    w.advance(1);
    expect(w.fake.dials).toBe(2);
  });

  it('redials at once after a close when reconnectDelay is 0', () => {
    const w = startWorker({ timing: { reconnectDelay: 0 } });
    w.fake.current.open();
    w.advance(5000);
    w.fake.current.close(1000, '');
    expect(w.untilNextDial()).toBe(0);
  });

  it('backs off progressively when connections keep dropping after 50 ms', () => {
    const w = startWorker({
      timing: { reconnectDelay: 100, minUptime: 1000, retry: { initialDelay: 1000, maxDelay: 60_000, jitter: 0 } }
    });
    const waits = Array.from({ length: 5 }, () => flap(w, 50));
    expect(waits).toEqual([100, 1100, 2100, 4100, 8100]);
    expect(types(w)).toEqual(Array.from({ length: 5 }, () => ['connected', 'disconnected']).flat());
  });

  it('resets the attempt counter after a connection that stayed up minUptime', () => {
    const w = startWorker({
      timing: { reconnectDelay: 100, minUptime: 1000, retry: { initialDelay: 1000, maxDelay: 60_000, jitter: 0 } }
    });
    const waits = [flap(w, 50), flap(w, 50), flap(w, 50), flap(w, 1000), flap(w, 50), flap(w, 50)];
    expect(waits).toEqual([100, 1100, 2100, 100, 100, 1100]);
  });

  it('does not reset the attempt counter after a connection one ms shorter than minUptime', () => {
    const w = startWorker({
      timing: { reconnectDelay: 100, minUptime: 1000, retry: { initialDelay: 1000, maxDelay: 60_000, jitter: 0 } }
    });
    expect([flap(w, 50), flap(w, 999), flap(w, 999)]).toEqual([100, 1100, 2100]);
    expect(w.actor.getSnapshot().context.attempt).toBe(3);
  });
});

describe('connected', () => {
  it('gives three alternating connected/disconnected pairs for three remote closes', () => {
    const w = startWorker({ timing: { reconnectDelay: 100, minUptime: 1000 } });
    const redialWaits: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      w.fake.current.open();
      w.advance(1500);
      w.fake.current.close(1001, 'going away');
      redialWaits.push(w.untilNextDial());
    }
    expect(types(w)).toEqual(['connected', 'disconnected', 'connected', 'disconnected', 'connected', 'disconnected']);
    expect(w.emitted('disconnected').map((e) => [e.code, e.reason, e.cause])).toEqual([
      [1001, 'going away', 'remote_close'],
      [1001, 'going away', 'remote_close'],
      [1001, 'going away', 'remote_close']
    ]);
    expect(redialWaits).toEqual([100, 100, 100]);
    expect(w.fake.dials).toBe(4);
    expect(w.fake.maxLive).toBe(1);
    expect(w.fake.allStoppedCleanedUp()).toBe(true);
  });

  describe('ping', () => {
    /** Opens the socket and returns the ms after open at which pings arrived within `span`. */
    function pingTimes(w: WorkerHarness, span: number): number[] {
      w.fake.current.open();
      const openedAt = w.clock.now();
      const times: number[] = [];
      w.advance(span, () => {
        if (w.fake.current.commands.length > times.length) times.push(w.clock.now() - openedAt);
      });
      return times;
    }

    it('sends socket.ping every 0.9 × pingInterval when random is 0', () => {
      const w = startWorker({ random: () => 0, timing: { pingInterval: 1000 } });
      expect(pingTimes(w, 3000)).toEqual([900, 1800, 2700]);
      expect(w.fake.current.commands).toEqual([{ type: 'socket.ping' }, { type: 'socket.ping' }, { type: 'socket.ping' }]);
    });

    it('sends socket.ping every 1.1 × pingInterval when random is just below 1', () => {
      const w = startWorker({ random: () => 1 - 2 ** -40, timing: { pingInterval: 1000 } });
      expect(pingTimes(w, 3500)).toEqual([1100, 2200, 3300]);
    });

    it('keeps every ping interval within ±10 % of pingInterval with a seeded random', () => {
      const w = startWorker({ random: seededRandom(42), timing: { pingInterval: 1000 } });
      const times = pingTimes(w, 20_000);
      const intervals = times.map((t, i) => t - (times[i - 1] ?? 0));
      expect(intervals.length).toBeGreaterThanOrEqual(18);
      for (const interval of intervals) {
        expect(interval).toBeGreaterThanOrEqual(900);
        expect(interval).toBeLessThanOrEqual(1100);
      }
      expect(new Set(intervals).size).toBeGreaterThan(5);
    });

    it('sends no ping when pingInterval is 0', () => {
      const w = startWorker({ timing: { pingInterval: 0 } });
      expect(pingTimes(w, 10_000)).toEqual([]);
      expect(w.fake.commands()).toEqual([]);
    });

    it('sends no ping before the socket opens, and stops pinging once the connection ended', () => {
      const w = startWorker({ random: () => 0, timing: { pingInterval: 100, handshakeTimeout: 10_000, reconnectDelay: 5000 } });
      w.advance(1000);
      expect(w.fake.commands()).toEqual([]);
      w.fake.current.open();
      w.advance(450);
      w.fake.current.close(1000, '');
      w.advance(4000);
      expect(w.fake.commands('socket.ping')).toHaveLength(5);
    });
  });

  describe('keepalive', () => {
    it('never fires while activity is recorded every 20 ms with a 200 ms timeout', () => {
      const w = startWorker({ timing: { keepaliveTimeout: 200 } });
      w.fake.current.open();
      let step = 0;
      w.advance(5000, () => {
        step += 1;
        if (step % 20 === 0) w.link.lastActivityAt = w.clock.now();
      });
      expect(w.tags()).toEqual(['connected']);
      expect(types(w)).toEqual(['connected']);
    });

    it('fires once per connection, 200 ms after the last activity, then reconnects after reconnectDelay', () => {
      const w = startWorker({ timing: { keepaliveTimeout: 200, reconnectDelay: 100 } });
      w.fake.current.open();
      w.advance(199);
      expect(w.tags()).toEqual(['connected']);
      w.advance(1);
      expect(w.events.at(-1)).toEqual({
        type: 'disconnected',
        id: ID,
        at: T0 + 200,
        code: 1006,
        reason: 'keepalive timeout',
        cause: 'keepalive_timeout'
      });
      expect(w.tags()).toEqual(['backoff']);
      expect(w.fake.instances[0]?.cleanedUp).toBe(true);
      expect(w.untilNextDial()).toBe(100);
      // The second connection gets its own full timeout, although the link saw no activity since T0.
      w.advance(30);
      w.fake.current.open();
      w.advance(199);
      expect(w.tags()).toEqual(['connected']);
      expect(w.emitted('disconnected')).toHaveLength(1);
      w.advance(1);
      expect(w.emitted('disconnected').map((e) => [e.at - T0, e.cause])).toEqual([
        [200, 'keepalive_timeout'],
        [530, 'keepalive_timeout']
      ]);
      expect(types(w)).toEqual(['connected', 'disconnected', 'connected', 'disconnected']);
    });

    it('gives the first connection its full timeout when the link never saw any activity', () => {
      const w = startWorker({ lastActivityAt: 0, timing: { keepaliveTimeout: 200 } });
      w.advance(40);
      w.fake.current.open();
      w.advance(199);
      expect(types(w)).toEqual(['connected']);
      w.advance(1);
      expect(w.emitted('disconnected').map((e) => [e.at - T0, e.cause])).toEqual([[240, 'keepalive_timeout']]);
    });

    it('counts the timeout from the last activity, not from when the connection opened', () => {
      const w = startWorker({ timing: { keepaliveTimeout: 200 } });
      w.fake.current.open();
      w.advance(150);
      w.link.lastActivityAt = w.clock.now();
      w.advance(199);
      expect(w.tags()).toEqual(['connected']);
      w.advance(1);
      expect(w.emitted('disconnected').map((e) => e.at - T0)).toEqual([350]);
    });

    it('never fires while the link is paused, and not at once after unpausing with fresh activity', () => {
      const w = startWorker({ timing: { keepaliveTimeout: 200 } });
      w.fake.current.open();
      w.link.paused = true;
      w.advance(2050);
      expect(types(w)).toEqual(['connected']);
      w.link.paused = false;
      w.link.lastActivityAt = w.clock.now();
      w.advance(199);
      expect(w.tags()).toEqual(['connected']);
      w.advance(1);
      expect(w.emitted('disconnected').map((e) => [e.at - T0, e.cause])).toEqual([[2250, 'keepalive_timeout']]);
    });

    it('pings on time while the keepalive re-arms on traffic, and expires only after the last frame', () => {
      const w = startWorker({ random: () => 0.5, timing: { pingInterval: 100, keepaliveTimeout: 250 } });
      w.fake.current.open();
      const pings = (): number => w.fake.current.commands.filter((c) => c.type === 'socket.ping').length;
      // Traffic every 50 ms for 1 s: a ping every 100 ms, no expiry.
      for (let ms = 0; ms < 1000; ms += 50) {
        w.link.lastActivityAt = w.clock.now();
        w.advance(50);
      }
      expect(pings()).toBe(10);
      expect(types(w)).toEqual(['connected']);
      // Then silence: pings go on, and 250 ms after the last frame the connection ends.
      const silentFrom = w.clock.now() - 50;
      w.advance(300);
      const down = w.emitted('disconnected');
      expect(down.map((e) => [e.at - silentFrom, e.cause])).toEqual([[250, 'keepalive_timeout']]);
    });

    it('never fires when keepaliveTimeout is 0', () => {
      const w = startWorker({ timing: { keepaliveTimeout: 0 } });
      w.fake.current.open();
      w.advance(10_000);
      expect(types(w)).toEqual(['connected']);
      expect(w.tags()).toEqual(['connected']);
    });
  });

  it('goes to backoff, not error, when the link throws on a command', () => {
    const w = startWorker({ random: () => 0, timing: { pingInterval: 1000, reconnectDelay: 100 } });
    w.fake.current.open();
    w.fake.current.crashOnNextCommand();
    w.advance(900);
    expect(w.fake.instances[0]?.crashed).toBe(true);
    expect(w.fake.instances[0]?.cleanedUp).toBe(true);
    expect(w.events.at(-1)).toEqual({
      type: 'disconnected',
      id: ID,
      at: T0 + 900,
      code: 1006,
      reason: 'socket adapter failed: fake socket #1 crashed on socket.ping',
      cause: 'network_error'
    });
    expect(w.tags()).toEqual(['backoff']);
    expect(w.actor.getSnapshot().status).toBe('active');
    expect(w.errors).toEqual([]);
    expect(w.untilNextDial()).toBe(100);
    w.fake.current.open();
    expect(types(w)).toEqual(['connected', 'disconnected', 'connected']);
  });

  describe('connection hook', () => {
    it('runs one connection actor with { id, link } for exactly as long as each connection', () => {
      const w = startWorker();
      expect(w.hooks.connection.instances).toHaveLength(0);
      w.fake.current.open();
      expect(w.hooks.connection.live).toBe(1);
      expect(w.hooks.connection.current.input).toEqual({ id: ID, link: w.link });
      w.fake.current.close(1006, '', 'network_error');
      expect(w.hooks.connection.live).toBe(0);
      w.untilNextDial();
      w.fake.current.open();
      expect(w.hooks.connection.instances).toHaveLength(2);
      expect(w.hooks.connection.live).toBe(1);
    });

    it('starts no connection actor when hasConnectionHook is off, as in the default machine', () => {
      const w = startWorker({ connectionHook: false, timing: { pingInterval: 100, keepaliveTimeout: 300 } });
      w.fake.current.open();
      expect(w.tags()).toEqual(['connected']);
      expect(Object.keys(w.actor.getSnapshot().children)).toEqual([]);
      expect(w.hooks.connection.instances).toHaveLength(0);
      // The heartbeat runs the same without it: pings go out, silence ends the connection.
      w.advance(300);
      expect(w.fake.current.commands.filter((c) => c.type === 'socket.ping').length).toBeGreaterThanOrEqual(2);
      expect(w.emitted('disconnected').map((e) => e.cause)).toEqual(['keepalive_timeout']);
    });

    it('ends the connection with network_error, not the worker, when the connection actor crashes', () => {
      const w = startWorker();
      w.fake.current.open();
      w.advance(40);
      w.hooks.connection.current.crash();
      expect(w.events.at(-1)).toEqual({
        type: 'disconnected',
        id: ID,
        at: T0 + 40,
        code: 1006,
        reason: 'connection actor failed',
        cause: 'network_error'
      });
      expect(w.tags()).toEqual(['backoff']);
      expect(w.fake.current.cleanedUp).toBe(true);
      expect(w.errors).toEqual([]);
    });
  });
});

describe('stopping', () => {
  it('closes politely when stopped while connected: local_stop, a 1000 close command, closing, then done', () => {
    const w = startWorker();
    w.fake.current.open();
    w.advance(10);
    w.actor.send({ type: 'worker.stop' });
    expect(w.events.at(-1)).toEqual({
      type: 'disconnected',
      id: ID,
      at: T0 + 10,
      code: 1000,
      reason: 'worker stopped',
      cause: 'local_stop'
    });
    expect(w.fake.current.commands).toEqual([{ type: 'socket.close', code: 1000, reason: 'worker stopped' }]);
    expect(w.tags()).toEqual(['closing']);
    expect(w.actor.getSnapshot().status).toBe('active');
    expect(w.fake.current.live).toBe(true);
    w.fake.current.close(1000, 'worker stopped');
    const snapshot = w.actor.getSnapshot();
    expect(snapshot.status).toBe('done');
    expect(snapshot.output).toEqual({ retired: false, attempts: 0 });
    expect(w.tags()).toEqual(['stopped']);
    expect(types(w)).toEqual(['connected', 'disconnected']);
    expect(w.fake.current.cleanedUp).toBe(true);
  });

  it('finishes closeTimeout after the close command when the peer never answers', () => {
    const w = startWorker({ timing: { closeTimeout: 200 } });
    w.fake.current.open();
    w.actor.send({ type: 'worker.stop' });
    w.advance(199);
    expect(w.tags()).toEqual(['closing']);
    w.advance(1);
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(w.fake.current.cleanedUp).toBe(true);
    expect(types(w)).toEqual(['connected', 'disconnected']);
  });

  it('stops at once and silently while dialing', () => {
    const w = startWorker();
    w.advance(100);
    w.actor.send({ type: 'worker.stop' });
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(w.events).toEqual([]);
    expect(w.fake.current.commands).toEqual([]);
    expect(w.fake.current.cleanedUp).toBe(true);
  });

  it('stops at once and silently during a huge backoff delay, without waiting it out', () => {
    const w = startWorker({ timing: { retry: { initialDelay: 3_600_000, maxDelay: 3_600_000 } } });
    w.fake.current.fail('refused');
    w.advance(1);
    w.fake.current.fail('refused');
    expect(w.tags()).toEqual(['backoff']);
    const before = [...w.events];
    w.actor.send({ type: 'worker.stop' });
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(w.events).toEqual(before);
    w.clock.increment(3_600_000);
    expect(w.fake.dials).toBe(2);
    expect(w.fake.live).toBe(0);
  });

  it('stops at once and silently while waiting reconnectDelay after a close', () => {
    const w = startWorker({ timing: { reconnectDelay: 3_600_000 } });
    w.fake.current.open();
    w.fake.current.close(1001, 'going away');
    w.actor.send({ type: 'worker.stop' });
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(types(w)).toEqual(['connected', 'disconnected']);
    w.clock.increment(3_600_000);
    expect(w.fake.dials).toBe(1);
  });

  it('treats repeated stops as one', () => {
    const w = startWorker();
    w.fake.current.open();
    w.actor.send({ type: 'worker.stop' });
    w.actor.send({ type: 'worker.stop' });
    w.actor.send({ type: 'worker.stop' });
    expect(w.fake.current.commands).toEqual([{ type: 'socket.close', code: 1000, reason: 'worker stopped' }]);
    expect(w.tags()).toEqual(['closing']);
    w.fake.current.close(1000, '');
    // XState's dev build warns about events sent to a finished actor; that is all that happens.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    w.actor.send({ type: 'worker.stop' });
    warn.mockRestore();
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(types(w)).toEqual(['connected', 'disconnected']);
    expect(w.errors).toEqual([]);
  });

  it('finishes when the link throws on the close command', () => {
    const w = startWorker();
    w.fake.current.open();
    w.fake.current.crashOnNextCommand();
    w.actor.send({ type: 'worker.stop' });
    expect(w.fake.current.crashed).toBe(true);
    expect(w.fake.current.cleanedUp).toBe(true);
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(types(w)).toEqual(['connected', 'disconnected']);
    expect(w.errors).toEqual([]);
  });
});

describe('heartbeatDelay', () => {
  // A connected context at `now`, with the given timing, activity and next ping.
  const contextAt = (now: number, timing: TimingOverrides, extra: Partial<WorkerContext> = {}): WorkerContext => ({
    id: 'ws://127.0.0.1:7000',
    link: createTestLink(now),
    timing: makeTiming(timing),
    now: () => now,
    random: () => 0.5,
    attempt: 0,
    flaps: 0,
    waitingAfter: 'disconnected',
    connectedAt: now,
    nextPingAt: undefined,
    connections: 1,
    dialFailures: 0,
    lastError: undefined,
    ...extra
  });

  it('waits for the sooner of the next ping and the keepalive deadline', () => {
    expect(heartbeatDelay(contextAt(1000, { keepaliveTimeout: 500 }, { nextPingAt: 1200 }))).toBe(200);
    expect(heartbeatDelay(contextAt(1000, { keepaliveTimeout: 150 }, { nextPingAt: 1200 }))).toBe(150);
  });

  it('counts the keepalive from the last activity, and fires at once for an overdue ping', () => {
    const context = contextAt(1000, { keepaliveTimeout: 500 }, { nextPingAt: 990, connectedAt: 0 });
    context.link.lastActivityAt = 900;
    expect(heartbeatDelay(context)).toBe(0);
    expect(heartbeatDelay({ ...context, nextPingAt: undefined })).toBe(400);
  });

  it('waits the full keepalive while the socket is paused for backpressure', () => {
    const context = contextAt(1000, { keepaliveTimeout: 500 });
    context.link.lastActivityAt = 0;
    context.link.paused = true;
    expect(heartbeatDelay(context)).toBe(500);
  });

  it('only re-arms at the longest timer Node allows when ping and keepalive are both off', () => {
    expect(heartbeatDelay(contextAt(1000, { keepaliveTimeout: 0, pingInterval: 0 }))).toBe(2 ** 31 - 1);
  });

  it('schedules pings pingInterval ±10 % apart, and none when pings are off', () => {
    const at = (random: number, pingInterval: number) => nextPingAt({ ...contextAt(0, { pingInterval }), random: () => random }, 5000);
    expect(at(0, 1000)).toBe(5900);
    expect(at(0.5, 1000)).toBe(6000);
    expect(at(1, 1000)).toBe(6100);
    expect(at(0.5, 0)).toBeUndefined();
  });
});

describe('createTestLink, the test link', () => {
  it('runs the default machine with its dials as fake sockets: open, commands, release', () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const link = createTestLink(T0, () => clock.now());
    const timing = makeTiming({ pingInterval: 1000 });
    const actor = createActor(workerMachine, { clock, input: { id: ID, link, timing, now: () => clock.now(), random: () => 0.5 } });
    const seen: string[] = [];
    actor.on('*', (event) => void seen.push(event.type));
    actor.start();
    expect(link.dials).toHaveLength(1);
    link.dials[0]?.open();
    expect(seen).toEqual(['connected']);
    clock.increment(1000);
    expect(link.dials[0]?.commands).toEqual(['ping']);
    actor.send({ type: 'worker.stop' });
    expect(link.dials[0]?.commands).toEqual(['ping', { code: 1000, reason: 'worker stopped' }]);
    link.dials[0]?.close(1000, 'bye');
    expect(actor.getSnapshot().status).toBe('done');
    expect(link.dials[0]?.released).toBe(true);
  });

  it('ignores what a released dial reports, and sends commands only to the newest dial', () => {
    const link = createTestLink();
    const reports: string[] = [];
    link.dial((event) => void reports.push(`first ${event.type}`));
    link.release();
    link.dials[0]?.open();
    link.ping();
    link.dial((event) => void reports.push(`second ${event.type}`));
    link.dials[1]?.fail('refused');
    link.ping();
    expect(reports).toEqual(['second socket.failed']);
    expect(link.dials.map((dial) => [dial.released, dial.commands])).toEqual([
      [true, []],
      [false, ['ping']]
    ]);
  });
});

describe('retry.maxFlaps', () => {
  it('retires after maxFlaps connections in a row that end before minUptime, with retired true in its output', () => {
    const w = startWorker({ timing: { minUptime: 1000, retry: { maxFlaps: 3 } } });
    flap(w, 50);
    flap(w, 999);
    w.fake.current.open();
    w.advance(10);
    w.fake.current.close(1006, '', 'network_error');
    expect(types(w)).toEqual(['connected', 'disconnected', 'connected', 'disconnected', 'connected', 'disconnected', 'retired']);
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(w.actor.getSnapshot().output).toEqual({ retired: true, attempts: 3 });
    expect(w.fake.live).toBe(0);
  });

  it('counts only flaps in a row: a connection that lives minUptime starts the count again', () => {
    const w = startWorker({ timing: { minUptime: 1000, retry: { maxFlaps: 2 } } });
    flap(w, 50);
    flap(w, 1000);
    flap(w, 50);
    expect(w.emitted('retired')).toEqual([]);
    w.fake.current.open();
    w.fake.current.close(1006, '', 'network_error');
    expect(w.emitted('retired')).toHaveLength(1);
  });

  it('never retires for flaps when maxFlaps is 0 (the default)', () => {
    const w = startWorker({ timing: { minUptime: 1000 } });
    for (let i = 0; i < 20; i += 1) flap(w, 10);
    expect(w.emitted('retired')).toEqual([]);
    expect(w.tags()).toEqual(['dialing']);
  });

  it('does not count failed dials as flaps', () => {
    const w = startWorker({ timing: { minUptime: 1000, retry: { maxFlaps: 2 } } });
    flap(w, 10);
    for (let i = 0; i < 5; i += 1) {
      w.fake.current.fail('refused');
      w.untilNextDial();
    }
    expect(w.emitted('retired')).toEqual([]);
    w.fake.current.open();
    w.fake.current.close(1006, '', 'network_error');
    expect(w.emitted('retired')).toHaveLength(1);
  });
});

describe('worker.reconnect', () => {
  it('drops an open connection with a close frame, reports disconnected local_stop and redials at once', () => {
    const w = startWorker();
    w.fake.current.open();
    w.advance(5000);
    const first = w.fake.current;
    w.actor.send({ type: 'worker.reconnect' });
    expect(first.cleanedUp).toBe(true);
    expect(w.fake.dials).toBe(2);
    expect(w.fake.live).toBe(1);
    expect(w.tags()).toEqual(['dialing']);
    expect(w.events.at(-1)).toEqual({
      type: 'disconnected',
      id: ID,
      at: T0 + 5000,
      code: 1000,
      reason: 'reconnect requested',
      cause: 'local_stop'
    });
    w.fake.current.open();
    expect(types(w)).toEqual(['connected', 'disconnected', 'connected']);
    expect(w.actor.getSnapshot().context.attempt).toBe(0);
  });

  it('asks the link for its close frame (1000, reconnect requested) before releasing it, then dials again', () => {
    const w = startWorker();
    w.fake.current.open();
    const first = w.fake.current;
    const calls: string[] = [];
    const { close, release, dial } = w.link;
    w.link.close = (code, reason) => {
      calls.push(`close ${code} ${reason}`);
      close(code, reason);
    };
    // A dial releases the link's previous dial too: only the release that lets the first socket go is the worker's.
    w.link.release = () => {
      if (!first.cleanedUp) calls.push('release #1');
      release();
    };
    w.link.dial = (report) => {
      calls.push(`dial #${w.fake.dials + 1}`);
      dial(report);
    };
    w.actor.send({ type: 'worker.reconnect' });
    expect(calls).toEqual(['close 1000 reconnect requested', 'release #1', 'dial #2']);
    // The test link drops commands to a released dial: this one reached the socket while it was still held.
    expect(first.commands).toEqual([{ type: 'socket.close', code: 1000, reason: 'reconnect requested' }]);
    expect(first.cleanedUp).toBe(true);
    expect(w.fake.current.live).toBe(true);
    expect(w.tags()).toEqual(['dialing']);
    expect(w.errors).toEqual([]);
  });

  it('redials at once out of backoff, keeping the failure count', () => {
    const w = startWorker({ timing: { retry: { initialDelay: 10_000, maxDelay: 10_000 } } });
    w.fake.current.fail('refused');
    w.untilNextDial(); // the first retry is immediate
    w.fake.current.fail('refused');
    expect(w.tags()).toEqual(['backoff']);
    w.advance(100);
    w.actor.send({ type: 'worker.reconnect' });
    expect(w.fake.dials).toBe(3);
    expect(w.tags()).toEqual(['dialing']);
    w.fake.current.fail('refused');
    expect(w.emitted('dial_failed').map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it('replaces a dial in progress with a fresh one, releasing the old socket', () => {
    const w = startWorker();
    const first = w.fake.current;
    w.advance(400);
    w.actor.send({ type: 'worker.reconnect' });
    expect(first.cleanedUp).toBe(true);
    expect(w.fake.dials).toBe(2);
    expect(w.fake.live).toBe(1);
    w.advance(499); // the new dial has its own handshake timeout
    expect(w.events).toEqual([]);
  });

  it('is ignored while closing and after stopping', () => {
    const w = startWorker();
    w.fake.current.open();
    w.actor.send({ type: 'worker.stop' });
    w.actor.send({ type: 'worker.reconnect' });
    expect(w.tags()).toEqual(['closing']);
    expect(w.fake.dials).toBe(1);
    w.fake.current.close(1000, '', 'local_stop');
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(w.errors).toEqual([]);
  });
});

describe('the end of a worker', () => {
  // How its host hears that it ended without subscribing to it: `worker.ended`, last, on the listener it has.
  function run(
    timing: TimingOverrides,
    drive: (link: ReturnType<typeof createTestLink>, actor: { send(event: { type: 'worker.stop' }): void }, clock: SimulatedClock) => void
  ): string[] {
    const clock = new SimulatedClock();
    clock.set(T0);
    const link = createTestLink(T0, () => clock.now());
    const actor = createActor(workerMachine, { clock, input: { id: ID, link, timing: makeTiming(timing), now: () => clock.now(), random: () => 0.5 } });
    const seen: string[] = [];
    actor.on('*', (event) => void seen.push(event.type));
    actor.start();
    drive(link, actor, clock);
    expect(actor.getSnapshot().status).toBe('done');
    return seen;
  }

  it('is said with worker.ended as the machine enters stopped, however it gets there', () => {
    expect(run({}, (_link, actor) => actor.send({ type: 'worker.stop' }))).toEqual(['worker.ended']);
    expect(
      run({}, (link, actor, clock) => {
        link.dials[0]?.open();
        actor.send({ type: 'worker.stop' });
        clock.increment(200); // no close reply: closeTimeout
      })
    ).toEqual(['connected', 'disconnected', 'worker.ended']);
    expect(
      run({ retry: { maxRetries: 1 } }, (link, _actor, clock) => {
        link.dials[0]?.fail();
        clock.increment(1000);
        link.dials[1]?.fail();
      })
    ).toEqual(['dial_failed', 'dial_failed', 'retired', 'worker.ended']);
  });
});
