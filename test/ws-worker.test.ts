import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BackpressureError, ErrorCodes } from '../src/errors.ts';
import type { Pool } from '../src/pool.ts';
import type { InboxMessage, InboxOverflow } from '../src/types.ts';
import { refusedUrl, startHungServer } from './helpers/servers.ts';
import { EventLog } from './helpers/event-log.ts';
import { onConnection } from './helpers/on-connection.ts';
import { rawSocketOf } from './helpers/hostile-servers.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';

// Integration tests of the default worker: createPool against real `ws`
// servers on 127.0.0.1 port 0. The pure-machine timing rules live in
// worker-machine.test.ts on a simulated clock.

const { logged, server: openServer, defer } = usePoolFixture();

const TIMED_OUT = Symbol('timed out');

/** Settles with `promise`'s value, or with TIMED_OUT after `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, ms, TIMED_OUT)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A repeating timer that is cleared when the test ends. */
function every(ms: number, tick: () => void): void {
  const timer = setInterval(tick, ms);
  defer(() => clearInterval(timer));
}

/** Removes the peer and closes the pool, which must both be done within `ms`; then the events stream has ended. */
async function removeAndCloseWithin(pool: Pool, log: EventLog, id: string, ms: number): Promise<void> {
  const started = Date.now();
  pool.remove(id);
  expect(await within(ms, pool.close())).not.toBe(TIMED_OUT);
  expect(Date.now() - started).toBeLessThan(ms);
  await log.done;
}

/** Reads `count` inbox messages (fewer if it times out or ends), leaving the rest buffered. */
async function take(inbox: AsyncIterable<InboxMessage>, count: number, timeout = 5000): Promise<InboxMessage[]> {
  const out: InboxMessage[] = [];
  const iterator = inbox[Symbol.asyncIterator]();
  // Ending the iterator finishes its parked next(), so a timeout cannot hang the test.
  const timer = setTimeout(() => void iterator.return?.(), timeout);
  try {
    while (out.length < count) {
      const result = await iterator.next();
      if (result.done === true) break;
      out.push(result.value);
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  return out;
}

const numbers = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => String(from + i));

describe('dialing', () => {
  it('retires a refused peer after maxRetries + 1 attempts, one dial_failed each, and removes it', async () => {
    const url = await refusedUrl();
    const { pool, log } = logged({ retry: { maxRetries: 3, initialDelay: 10, maxDelay: 20 } });
    const id = pool.connect(url);

    const retired = await log.nth('retired', 1);

    expect(log.kinds()).toEqual(['dial_failed', 'dial_failed', 'dial_failed', 'dial_failed', 'retired']);
    const failures = log.all('dial_failed');
    expect(failures.map((e) => e.attempt)).toEqual([1, 2, 3, 4]);
    for (const failure of failures) {
      expect(failure.id).toBe(id);
      expect(failure.error).toMatch(/ECONNREFUSED/);
    }
    expect(retired).toMatchObject({ id, attempts: 4 });
    expect(pool.peers()).not.toContain(id);
    // Nothing more follows the retirement.
    await pool.close();
    await log.done;
    expect(log.items).toHaveLength(5);
  });

  it('fails a hung handshake after handshakeTimeout and leaves no socket open', async () => {
    const hung = await startHungServer();
    defer(() => hung.close());
    // First retry is immediate, the second waits 10 s: the worker then idles in backoff.
    const { pool, log } = logged({ handshakeTimeout: 200, retry: { initialDelay: 10_000, maxDelay: 10_000 } });
    const started = Date.now();
    const id = pool.connect(hung.url);

    const first = await log.nth('dial_failed', 1);
    const second = await log.nth('dial_failed', 2);

    expect(first.error).toMatch(/handshake/i);
    expect(second.error).toMatch(/handshake/i);
    expect(first.at - started).toBeGreaterThanOrEqual(190);
    expect(first.at - started).toBeLessThan(600);
    expect(second.at - first.at).toBeGreaterThanOrEqual(190);
    expect(second.at - first.at).toBeLessThan(600);
    expect(pool.peerStats(id).state).toBe('backoff');
    await expect.poll(() => hung.sockets.size, { timeout: 1000 }).toBe(0);
    expect(log.kinds()).toEqual(['dial_failed', 'dial_failed']);
  });

  it('stops silently and promptly when removed during a hung handshake', async () => {
    const hung = await startHungServer();
    defer(() => hung.close());
    const { pool, log } = logged(); // default handshakeTimeout: 10 s
    const id = pool.connect(hung.url);
    await expect.poll(() => hung.sockets.size).toBe(1);
    expect(pool.peerStats(id).state).toBe('dialing');

    await removeAndCloseWithin(pool, log, id, 1000);
    expect(log.items).toEqual([]);
    await expect.poll(() => hung.sockets.size).toBe(0);
  });
});

describe('backoff', () => {
  it('stops silently and promptly when removed while waiting after a failed dial', async () => {
    const url = await refusedUrl();
    const { pool, log } = logged({ retry: { initialDelay: 10_000, maxDelay: 10_000 } });
    const id = pool.connect(url);
    // Attempt 1 is retried at once; after attempt 2 the worker waits 10 s.
    await log.nth('dial_failed', 2);
    expect(pool.peerStats(id).state).toBe('backoff');

    await removeAndCloseWithin(pool, log, id, 1000);
    expect(log.kinds()).toEqual(['dial_failed', 'dial_failed']);
  });

  it('stops silently and promptly when removed while waiting reconnectDelay after a remote close', async () => {
    const server = await openServer();
    onConnection(server, (socket) => socket.close(4001, 'bye'));
    const { pool, log } = logged({ reconnectDelay: 10_000 });
    const id = pool.connect(server.url);
    await log.nth('disconnected', 1);
    expect(pool.peerStats(id).state).toBe('backoff');

    await removeAndCloseWithin(pool, log, id, 1000);
    expect(log.kinds()).toEqual(['connected', 'disconnected']);
  });
});

describe('connected', () => {
  it('emits connected and delivers 1000 text frames in order, tagged with the peer id and a receivedAt', async () => {
    const server = await openServer();
    onConnection(server, (socket) => {
      for (let i = 0; i < 1000; i++) socket.send(String(i));
    });
    const { pool, log } = logged();
    const started = Date.now();
    const id = pool.connect(`${server.url}/`);

    const connected = await log.nth('connected', 1);
    const messages = await take(pool.inbox, 1000);
    const finished = Date.now();

    expect(id).toBe(server.url);
    expect(connected.id).toBe(id);
    expect(pool.peers()).toEqual([id]);
    expect(messages.map((m) => m.data)).toEqual(numbers(0, 1000));
    for (const message of messages) {
      expect(message.id).toBe(id);
      expect(typeof message.receivedAt).toBe('number');
      expect(message.receivedAt).toBeGreaterThanOrEqual(started);
      expect(message.receivedAt).toBeLessThanOrEqual(finished);
    }
  });

  it('delivers text frames as strings and binary frames as Uint8Array', async () => {
    const server = await openServer();
    onConnection(server, (socket) => {
      socket.send('text');
      socket.send(Buffer.from([1, 2, 3]), { binary: true });
      socket.send('Ünïcödé');
    });
    const { pool } = logged();
    pool.connect(server.url);

    const [text, binary, unicode] = await take(pool.inbox, 3);

    expect(text?.data).toBe('text');
    expect(binary?.data).toBeInstanceOf(Uint8Array);
    expect([...(binary?.data as Uint8Array)]).toEqual([1, 2, 3]);
    expect(unicode?.data).toBe('Ünïcödé');
  });

  it('emits disconnected (remote_close, code, reason) when the server closes, then reconnects after reconnectDelay', async () => {
    const server = await openServer();
    onConnection(server, (socket, n) => {
      if (n === 1) socket.close(4001, 'going away for a bit');
    });
    const { pool, log } = logged({ reconnectDelay: 50, minUptime: 0 });
    const id = pool.connect(server.url);

    const down = await log.nth('disconnected', 1);
    const up = await log.nth('connected', 2);

    expect(down).toMatchObject({ id, cause: 'remote_close', code: 4001, reason: 'going away for a bit' });
    expect(up.at - down.at).toBeGreaterThanOrEqual(45);
    expect(up.at - down.at).toBeLessThan(500);
    expect(log.kinds()).toEqual(['connected', 'disconnected', 'connected']);
    expect(pool.peerStats(id).connected).toBe(true);
  });

  it('gives exactly three alternating connected/disconnected pairs for three server closes', async () => {
    const server = await openServer();
    onConnection(server, (socket, n) => {
      if (n <= 3) socket.close(4001, `close ${n}`);
    });
    const { pool, log } = logged({ reconnectDelay: 20, minUptime: 0 });
    const id = pool.connect(server.url);

    await log.nth('connected', 4);

    expect(log.kinds(id)).toEqual(['connected', 'disconnected', 'connected', 'disconnected', 'connected', 'disconnected', 'connected']);
    expect(log.all('disconnected').map((e) => [e.code, e.reason, e.cause])).toEqual([
      [4001, 'close 1', 'remote_close'],
      [4001, 'close 2', 'remote_close'],
      [4001, 'close 3', 'remote_close']
    ]);
    const times = log.items.map((e) => e.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('sends a close frame (1000) when removed, emits disconnected local_stop and finishes the worker', async () => {
    const server = await openServer();
    const serverSide = server.nextConnection();
    const { pool, log } = logged();
    const id = pool.connect(server.url);
    const socket = await serverSide;
    const closeFrame = new Promise<[number, string]>((resolve) => {
      socket.once('close', (code, reason) => resolve([code, reason.toString()]));
    });
    await log.nth('connected', 1);

    pool.remove(id);

    expect(pool.peers()).toEqual([]);
    const down = await log.nth('disconnected', 1);
    expect(down).toMatchObject({ id, cause: 'local_stop', code: 1000 });
    const [code] = await closeFrame;
    expect(code).toBe(1000);
    // The pool machine counts the worker down once its start() has settled.
    await expect.poll(() => pool.actor.getSnapshot().context.live).toBe(0);
    expect(log.kinds()).toEqual(['connected', 'disconnected']);
  });

  it('closes with 1009 (read_limit) on a frame above readLimit, leaving another peer untouched', async () => {
    const big = await openServer();
    const small = await openServer();
    const bigSide = big.nextConnection();
    const smallSide = small.nextConnection();
    const { pool, log } = logged({ readLimit: 1024, reconnectDelay: 10_000 });
    const bigId = pool.connect(big.url);
    const smallId = pool.connect(small.url);
    const smallSocket = await smallSide;
    const smallReceived: string[] = [];
    smallSocket.on('message', (data) => smallReceived.push(String(data)));
    await log.nth('connected', 1, bigId);
    await log.nth('connected', 1, smallId);

    (await bigSide).send('x'.repeat(2048));
    const down = await log.nth('disconnected', 1, bigId);

    expect(down).toMatchObject({ code: 1009, cause: 'read_limit' });
    smallSocket.send('still here');
    const [message] = await take(pool.inbox, 1);
    expect(message).toMatchObject({ id: smallId, data: 'still here' });
    pool.send(smallId, 'and sending');
    await expect.poll(() => smallReceived).toEqual(['and sending']);
    expect(pool.peerStats(smallId).connected).toBe(true);
    expect(log.kinds(smallId)).toEqual(['connected']);
    expect(pool.stats().totalReceived).toBe(1);
  });

  it('throws BackpressureError once the send buffer passes sendHighWaterMark, and delivers every accepted chunk', async () => {
    const highWaterMark = 64 * 1024;
    const server = await openServer();
    const serverSide = server.nextConnection();
    const { pool, log } = logged({ sendHighWaterMark: highWaterMark, closeTimeout: 100 });
    const id = pool.connect(server.url);
    const socket = await serverSide;
    let delivered = 0;
    socket.on('message', () => delivered++);
    rawSocketOf(socket).pause();
    await log.nth('connected', 1);

    const chunk = new Uint8Array(64 * 1024);
    let accepted = 0;
    let failure: unknown;
    // Loopback kernel buffers take a few MB before ws starts buffering; 1000 chunks is 64 MB.
    for (let i = 0; i < 1000; i++) {
      try {
        pool.send(id, chunk);
        accepted++;
      } catch (error) {
        failure = error;
        break;
      }
    }

    expect(failure).toBeInstanceOf(BackpressureError);
    expect((failure as BackpressureError).code).toBe(ErrorCodes.BACKPRESSURE);
    const buffered = pool.peerStats(id).bufferedAmount;
    expect(buffered).toBeGreaterThan(highWaterMark);
    // The check runs before each send, so at most one chunk (plus its frame header) overshoots.
    expect(buffered).toBeLessThanOrEqual(highWaterMark + chunk.byteLength + 14);
    expect(pool.stats().totalSent).toBe(accepted);

    rawSocketOf(socket).resume();
    await expect.poll(() => delivered, { timeout: 5000 }).toBe(accepted);
    await expect.poll(() => pool.peerStats(id).bufferedAmount).toBe(0);
    expect(() => pool.send(id, chunk)).not.toThrow();
  });

  it('reports connected, connectedSince, byte counts and restarts in peerStats across reconnects', async () => {
    const server = await openServer();
    onConnection(server, (socket) => socket.send('hello')); // 5 bytes per connection
    const { pool, log } = logged({ reconnectDelay: 20, minUptime: 0 });
    const started = Date.now();
    let serverSide = server.nextConnection();
    const id = pool.connect(server.url);
    await log.nth('connected', 1);
    await take(pool.inbox, 1);
    pool.send(id, 'abc'); // 3 bytes

    const first = pool.peerStats(id);
    expect(first).toMatchObject({ id, state: 'connected', connected: true, restarts: 0, received: 1, sent: 1, bytesIn: 5, bytesOut: 3 });
    expect(first.connectedSince).toBeGreaterThanOrEqual(started);
    expect(first.connectedSince).toBeLessThanOrEqual(Date.now());

    for (const restarts of [1, 2]) {
      const current = await serverSide;
      serverSide = server.nextConnection();
      current.close(4000, 'restart');
      await log.nth('connected', restarts + 1);
      await take(pool.inbox, 1);
      const stats = pool.peerStats(id);
      // Counters are monotonic across connections; connectedSince belongs to the current one.
      expect(stats).toMatchObject({ connected: true, restarts, received: restarts + 1, sent: 1, bytesIn: 5 * (restarts + 1), bytesOut: 3 });
      expect(stats.connectedSince).toBeGreaterThan(first.connectedSince ?? Infinity);
    }
  });
});

describe('connected › keepalive', () => {
  it('does not fire while the server sends a message every 20 ms', async () => {
    const server = await openServer();
    onConnection(server, (socket) => every(20, () => socket.send('tick')));
    const { pool, log } = logged({ keepaliveTimeout: 200, pingInterval: 0 });
    const id = pool.connect(server.url);
    await log.nth('connected', 1);

    await delay(1000);

    expect(log.kinds()).toEqual(['connected']);
    expect(pool.peerStats(id).received).toBeGreaterThan(25);
  });

  it('disconnects a peer that stops answering pings within pingInterval + keepaliveTimeout, once per connection, then reconnects', async () => {
    const server = await openServer({ autoPong: false });
    let pings = 0;
    onConnection(server, (socket) => socket.on('ping', () => pings++));
    const { pool, log } = logged({ pingInterval: 50, keepaliveTimeout: 200, reconnectDelay: 20, minUptime: 0 });
    const id = pool.connect(server.url);

    await log.nth('disconnected', 2);
    await log.nth('connected', 3);

    expect(log.kinds(id).slice(0, 5)).toEqual(['connected', 'disconnected', 'connected', 'disconnected', 'connected']);
    const ups = log.all('connected');
    const downs = log.all('disconnected');
    for (const k of [0, 1]) {
      expect(downs[k]).toMatchObject({ cause: 'keepalive_timeout' });
      const lived = (downs[k]?.at ?? 0) - (ups[k]?.at ?? 0);
      expect(lived).toBeGreaterThanOrEqual(190);
      expect(lived).toBeLessThanOrEqual(50 + 200 + 100);
    }
    expect(pings).toBeGreaterThan(0);
  });

  it('is kept alive by pongs from a normal server, with no data at all', async () => {
    const server = await openServer();
    let pings = 0;
    onConnection(server, (socket) => socket.on('ping', () => pings++));
    const { pool, log } = logged({ pingInterval: 50, keepaliveTimeout: 200 });
    const id = pool.connect(server.url);
    await log.nth('connected', 1);

    await delay(1000);

    expect(log.kinds()).toEqual(['connected']);
    expect(pool.peerStats(id).received).toBe(0);
    expect(pings).toBeGreaterThan(10);
  });

  it('is kept alive by successful sends to a silent server', async () => {
    const server = await openServer({ autoPong: false });
    let delivered = 0;
    onConnection(server, (socket) => socket.on('message', () => delivered++));
    const { pool, log } = logged({ pingInterval: 0, keepaliveTimeout: 200 });
    const id = pool.connect(server.url);
    await log.nth('connected', 1);
    const failures: unknown[] = [];
    every(20, () => {
      try {
        pool.send(id, 'still here');
      } catch (error) {
        failures.push(error);
      }
    });

    await delay(1000);

    expect(log.kinds()).toEqual(['connected']);
    expect(failures).toEqual([]);
    expect(delivered).toBeGreaterThan(25);
  });
});

describe('connected › inbox overflow', () => {
  it('pauses the socket when a block inbox is full: bounded memory, no keepalive, nothing lost once read', async () => {
    const total = 5000;
    const pad = '.'.repeat(1000); // ~1 KB frames, so one TCP read holds only a few dozen
    const server = await openServer();
    onConnection(server, (socket) => {
      for (let i = 0; i < total; i++) socket.send(`${i}${pad}`);
    });
    const { pool, log } = logged({
      inboxSize: 16,
      inboxOverflow: 'block',
      keepaliveTimeout: 200,
      pingInterval: 0,
      closeTimeout: 100
    });
    const id = pool.connect(server.url);
    await log.nth('connected', 1);
    await expect.poll(() => pool.peerStats(id).paused).toBe(true);

    const before = { depth: pool.stats().inboxDepth, received: pool.peerStats(id).received };
    await delay(200);
    const after = { depth: pool.stats().inboxDepth, received: pool.peerStats(id).received };
    await delay(400); // 600 ms paused in all: three keepalive timeouts

    expect(after).toEqual(before);
    // inboxSize is the bound; what ws had already read when it paused (one 64 KiB read, ~65 frames) waits in the link.
    expect(before.depth).toBe(16);
    expect(before.received - before.depth).toBeLessThan(200);
    expect(before.received).toBeLessThan(total);
    expect(pool.peerStats(id)).toMatchObject({ paused: true, connected: true });
    expect(log.kinds()).toEqual(['connected']);

    const messages = await take(pool.inbox, total);

    expect(messages.map((m) => String(m.data).slice(0, -pad.length))).toEqual(numbers(0, total));
    expect(pool.stats()).toMatchObject({ totalReceived: total, inboxDropped: 0, inboxDepth: 0 });
    expect(log.kinds()).toEqual(['connected']);
  });

  it.each<[InboxOverflow, string[]]>([
    ['drop-newest', numbers(0, 10)],
    ['drop-oldest', [...numbers(91, 100), 'marker']]
  ])('%s keeps exactly what it says and counts every drop', async (policy, kept) => {
    const server = await openServer();
    onConnection(server, (socket) => {
      for (let i = 0; i < 100; i++) socket.send(String(i));
      setTimeout(() => socket.send('marker'), 20);
    });
    const { pool, log } = logged({ inboxSize: 10, inboxOverflow: policy });
    const id = pool.connect(server.url);
    await log.nth('connected', 1);
    // Nobody reads until all 101 messages have come off the socket.
    await expect.poll(() => pool.peerStats(id).received).toBe(101);

    expect(pool.stats()).toMatchObject({ inboxDepth: 10, inboxDropped: 91, totalReceived: 10 });
    expect(pool.peerStats(id).drops).toBe(91);
    const messages = await take(pool.inbox, 10);
    expect(messages.map((m) => m.data)).toEqual(kept);
    expect(pool.stats().inboxDepth).toBe(0);
    expect(pool.peerStats(id)).toMatchObject({ drops: 91, paused: false, connected: true });
  });
});
