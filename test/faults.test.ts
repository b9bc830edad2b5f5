import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Pool } from '../src/pool.ts';
import type { PoolOptions } from '../src/types.ts';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.ts';
import {
  Opcode,
  frame,
  startClosingServer,
  startFlappingServer,
  startFragmentingServer,
  startHttpStatusServer,
  startInvalidUtf8Server,
  startScriptedServer,
  writeRaw,
  type HttpStatusServer
} from './helpers/hostile-servers.ts';
import { generateCertificate, startTlsServer, type TlsTestServer } from './helpers/tls-server.ts';
import { EventLog } from './helpers/event-log.ts';
import { onConnection } from './helpers/on-connection.ts';
import { captureLogger } from './helpers/capture-logger.ts';
import { usePoolFixture, type InboxLog } from './helpers/pool-fixture.ts';

// One test per fault a peer or the network can throw at the pool: the events
// and causes it reports, how fast it notices, that it recovers once the fault
// clears, that a bystander peer in the same pool never notices, and that
// nothing reaches the process as an unhandled rejection, an uncaught
// exception or an error-level log line.

const unhandledRejection = vi.fn();
const uncaughtException = vi.fn();
const errorLines: string[] = [];

beforeAll(() => {
  process.on('unhandledRejection', unhandledRejection);
  process.on('uncaughtException', uncaughtException);
});

// Registered before the fixture's own afterEach, so (vitest runs after-hooks newest first) it checks
// once the pools and servers are closed.
afterEach(async () => {
  // Give a late rejection a turn to surface before checking.
  await delay(10);
  expect(unhandledRejection).not.toHaveBeenCalled();
  expect(uncaughtException).not.toHaveBeenCalled();
  expect(errorLines).toEqual([]);
});

afterAll(() => {
  process.off('unhandledRejection', unhandledRejection);
  process.off('uncaughtException', uncaughtException);
});

/** Every line logged at error level or above: a worker or pool actor that failed. */
const { logger: errorLogger } = captureLogger('error', errorLines);

/** On top of the fixture's fast reconnect and close: no probes, quick handshakes and retries. */
const FAST: PoolOptions = {
  minUptime: 0,
  handshakeTimeout: 500,
  pingInterval: 0,
  keepaliveTimeout: 0,
  retry: { initialDelay: 50, maxDelay: 200, jitter: 0 }
};

const { logged, server, track } = usePoolFixture({ ...FAST, logger: errorLogger });

async function proxyTo(url: string): Promise<FaultProxy> {
  return track(await startFaultProxy(url));
}

/**
 * A healthy peer in the same pool as the faulty one: connected once, never
 * disconnected, and still exchanging messages in both directions at the end.
 */
async function bystander(pool: Pool, log: EventLog, inbox: InboxLog): Promise<{ check(): Promise<void> }> {
  const srv = await server();
  const echoed: string[] = [];
  onConnection(srv, (socket) =>
    socket.on('message', (data) => {
      echoed.push(String(data));
      socket.send(`echo ${String(data)}`);
    })
  );
  const id = pool.connect(`${srv.url}/bystander`);
  await log.nth('connected', 1, id);
  return {
    async check() {
      pool.send(id, 'are you there?');
      await expect.poll(() => inbox.of(id)).toEqual(['echo are you there?']);
      expect(echoed).toEqual(['are you there?']);
      expect(log.kinds(id)).toEqual(['connected']);
      expect(pool.peerStats(id)).toMatchObject({ state: 'connected', connected: true, restarts: 0, dialFailures: 0 });
    }
  };
}

// ---------------------------------------------------------------------------

describe('handshake faults', () => {
  it.each([401, 403, 404, 500])('HTTP %i on the upgrade: dial_failed naming the status on every attempt, connected once the server accepts', async (status) => {
    const hostile: HttpStatusServer = track(await startHttpStatusServer(status));
    const { pool, log, inbox } = logged();
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(hostile.url);

    const failures = await Promise.all([1, 2, 3].map((n) => log.nth('dial_failed', n, id)));
    expect(failures.map((e) => e.attempt)).toEqual([1, 2, 3]);
    for (const failure of failures) expect(failure.error).toContain(String(status));
    expect(pool.peerStats(id)).toMatchObject({ connected: false, lastError: expect.stringContaining(String(status)) });

    hostile.setStatus(null);
    await log.nth('connected', 1, id);
    expect(hostile.accepted).toBe(1);
    expect(log.kinds(id).filter((kind) => kind !== 'dial_failed')).toEqual(['connected']);
    expect(pool.peerStats(id)).toMatchObject({ connected: true, dialFailures: log.all('dial_failed', id).length });
    await other.check();
  });

  it('302 redirect: dial_failed naming 302; the Location is never followed, so headers never reach another host', async () => {
    const elsewhere = await server();
    let redirectedTo = 0;
    elsewhere.wss.on('connection', () => redirectedTo++);
    const hostile = track(await startHttpStatusServer(302, { Location: `${elsewhere.url.replace('ws:', 'http:')}/stolen` }));
    const { pool, log, inbox } = logged();
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(hostile.url, { headers: { Authorization: 'Bearer not-for-them' } });

    const failure = await log.nth('dial_failed', 2, id);

    expect(failure.error).toContain('302');
    expect(hostile.requests.length).toBeGreaterThanOrEqual(2);
    expect(redirectedTo).toBe(0);
    hostile.setStatus(null);
    await log.nth('connected', 1, id);
    await other.check();
  });

  describe('TLS with a self-signed certificate generated for this run', () => {
    let tls: TlsTestServer;
    beforeAll(async () => {
      tls = await startTlsServer();
    });
    afterAll(() => tls.close());

    it('is refused by default with a dial_failed that says self-signed, and never connects', async () => {
      const { pool, log, inbox } = logged();
      const other = await bystander(pool, log, inbox);
      const id = pool.connect(tls.url);

      const failures = await Promise.all([1, 2].map((n) => log.nth('dial_failed', n, id)));

      for (const failure of failures) expect(failure.error).toMatch(/self[- ]signed/i);
      expect(log.kinds(id)).not.toContain('connected');
      expect(tls.sockets.size).toBe(0);
      await other.check();
    });

    it('is refused when tls.ca is a different certificate', async () => {
      const { pool, log } = logged();
      const id = pool.connect(tls.url, { tls: { ca: generateCertificate().cert } });
      const failure = await log.nth('dial_failed', 1, id);
      expect(failure.error).toMatch(/self[- ]signed|verify|issuer/i);
      expect(log.kinds(id)).not.toContain('connected');
    });

    it('is accepted when the CA is passed through connect(url, { tls: { ca } }), and carries data both ways', async () => {
      const echoed: string[] = [];
      tls.wss.on('connection', (socket) =>
        socket.on('message', (data) => {
          echoed.push(String(data));
          socket.send(`secure ${String(data)}`);
        })
      );
      const { pool, log, inbox } = logged();
      const id = pool.connect(`${tls.url}/secure`, { tls: { ca: tls.ca } });

      await log.nth('connected', 1, id);
      pool.send(id, 'hello');

      await expect.poll(() => inbox.of(id)).toEqual(['secure hello']);
      expect(echoed).toEqual(['hello']);
      expect(log.kinds(id)).toEqual(['connected']);
    });
  });
});

describe('protocol faults', () => {
  it('invalid UTF-8 in a text frame: disconnected remote_error 1007, nothing delivered, then connected again', async () => {
    const hostile = track(await startInvalidUtf8Server());
    const { pool, log, inbox } = logged();
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(hostile.url);

    const down = await log.nth('disconnected', 1, id);
    await log.nth('connected', 2, id);

    expect(down).toMatchObject({ cause: 'remote_error', code: 1007 });
    expect(inbox.of(id)).toEqual([]);
    expect(pool.peerStats(id).lastError).toMatch(/UTF-8/);
    await other.check();
  });

  it('invalid UTF-8 from a peer that then ignores the close handshake: disconnected within closeTimeout, not after ws’s 30 s', async () => {
    // The server reads nothing after the bad frame: ws's close frame is never answered and TCP stays up.
    const hostile = track(
      await startScriptedServer((socket, n) => {
        if (n > 1) return;
        socket.pause();
        writeRaw(socket, frame(Opcode.text, Buffer.from([0xc3, 0x28])));
      })
    );
    const { pool, log, inbox } = logged({ closeTimeout: 300 });
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(hostile.url);
    const up = await log.nth('connected', 1, id);

    const down = await log.nth('disconnected', 1, id, 3000);

    expect(down).toMatchObject({ cause: 'remote_error', code: 1007 });
    expect(down.at - up.at).toBeLessThan(300 + 500);
    await log.nth('connected', 2, id);
    await other.check();
  });

  it('a message fragmented with pings and pongs between the fragments is reassembled and delivered once', async () => {
    const text = `start ${'fragmented ✓ '.repeat(400)} end`;
    const hostile = track(await startFragmentingServer(text, 7));
    const pings: string[] = [];
    const received: string[] = [];
    hostile.wss.on('connection', (socket) => {
      socket.on('pong', (data) => pings.push(String(data)));
      socket.on('message', (data) => received.push(String(data)));
    });
    const { pool, log, inbox } = logged();
    const id = pool.connect(hostile.url);
    await log.nth('connected', 1, id);

    await expect.poll(() => inbox.of(id).length).toBe(1);
    await expect.poll(() => pings.length).toBe(6);

    expect(inbox.of(id)).toEqual([text]);
    // Each ping was answered with its own payload, in order.
    expect(pings).toEqual(Array.from({ length: 6 }, (_, i) => `between ${i}`));
    pool.send(id, 'still usable');
    await expect.poll(() => received).toEqual(['still usable']);
    await delay(100);
    expect(inbox.of(id)).toHaveLength(1);
    expect(log.kinds(id)).toEqual(['connected']);
  });

  it.each([
    [1001, 'going away'],
    [1011, 'internal error'],
    [4000, 'application code']
  ])('a close with code %i: disconnected remote_close with that code and reason, then connected again', async (code, reason) => {
    const hostile = track(await startClosingServer(code, reason));
    const { pool, log, inbox } = logged();
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(hostile.url);

    const downs = await Promise.all([1, 2].map((n) => log.nth('disconnected', n, id)));
    await log.nth('connected', 3, id);

    for (const down of downs) expect(down).toMatchObject({ cause: 'remote_close', code, reason });
    expect(log.kinds(id).slice(0, 5)).toEqual(['connected', 'disconnected', 'connected', 'disconnected', 'connected']);
    await other.check();
  });

  it('a flapping server (accepts, closes 30 ms later, forever): each wait is longer than the last, events strictly alternate', async () => {
    const hostile = track(await startFlappingServer(30));
    const { pool, log, inbox } = logged({
      reconnectDelay: 20,
      minUptime: 5000,
      retry: { initialDelay: 80, maxDelay: 800, jitter: 0 }
    });
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(hostile.url);

    await log.nth('connected', 5, id, 8000);

    const ups = log.all('connected', id);
    const downs = log.all('disconnected', id);
    // Waits: reconnectDelay + 0, 80, 160, 320 (the first retry of a streak is immediate).
    const waits = [1, 2, 3, 4].map((k) => (ups[k]?.at ?? 0) - (downs[k - 1]?.at ?? 0));
    for (let k = 1; k < waits.length; k++) expect(waits[k]).toBeGreaterThan(waits[k - 1] as number);
    expect(waits[3]).toBeGreaterThanOrEqual(20 + 320 - 5);
    expect(log.kinds(id).slice(0, 9)).toEqual([
      'connected',
      'disconnected',
      'connected',
      'disconnected',
      'connected',
      'disconnected',
      'connected',
      'disconnected',
      'connected'
    ]);
    expect(downs.every((down) => down.cause === 'remote_close' && down.code === 1000)).toBe(true);
    await other.check();
  });
});

describe('network faults through a fault proxy', () => {
  it('reset (TCP RST): disconnected network_error 1006 at once, then connected again through the same proxy', async () => {
    const srv = await server();
    onConnection(srv, (socket, n) => socket.send(`hello ${n}`));
    const proxy = await proxyTo(srv.url);
    const { pool, log, inbox } = logged();
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(proxy.url);
    await log.nth('connected', 1, id);
    await expect.poll(() => inbox.of(id)).toEqual(['hello 1']);

    const resetAt = Date.now();
    proxy.reset();
    const down = await log.nth('disconnected', 1, id);
    await log.nth('connected', 2, id);

    expect(down).toMatchObject({ cause: 'network_error', code: 1006 });
    expect(down.at - resetAt).toBeLessThan(200);
    await expect.poll(() => inbox.of(id)).toEqual(['hello 1', 'hello 2']);
    expect(proxy.accepted).toBe(2);
    await other.check();
  });

  it('black-hole (TCP up, nothing forwarded): keepalive_timeout within pingInterval + keepaliveTimeout, dials time out meanwhile, connected once it clears', async () => {
    const pingInterval = 100;
    const keepaliveTimeout = 300;
    const srv = await server();
    const proxy = await proxyTo(srv.url);
    const { pool, log, inbox } = logged({ pingInterval, keepaliveTimeout, handshakeTimeout: 200 });
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(proxy.url);
    await log.nth('connected', 1, id);
    await delay(2 * pingInterval); // pongs keep it alive meanwhile

    const silentFrom = Date.now();
    proxy.blackhole();
    const down = await log.nth('disconnected', 1, id);

    expect(down).toMatchObject({ cause: 'keepalive_timeout' });
    expect(down.at - silentFrom).toBeGreaterThanOrEqual(keepaliveTimeout - pingInterval * 1.1 - 5);
    expect(down.at - silentFrom).toBeLessThanOrEqual(pingInterval + keepaliveTimeout + 100);
    // Still black-holed: the handshake gets no answer.
    const failed = await log.nth('dial_failed', 1, id);
    expect(failed.error).toMatch(/handshake/i);

    proxy.pass();
    await log.nth('connected', 2, id);
    expect(pool.peerStats(id).connected).toBe(true);
    await other.check();
  });

  it.each([
    ['down', 'server → client'],
    ['up', 'client → server']
  ] as const)('half-close of %s (%s): disconnected network_error promptly, then connected again', async (direction, _label) => {
    const srv = await server();
    const proxy = await proxyTo(srv.url);
    const { pool, log, inbox } = logged({ pingInterval: 100, keepaliveTimeout: 300 });
    const other = await bystander(pool, log, inbox);
    const id = pool.connect(proxy.url);
    await log.nth('connected', 1, id);

    const closedAt = Date.now();
    proxy.halfClose(direction);
    const down = await log.nth('disconnected', 1, id);
    await log.nth('connected', 2, id);

    expect(down).toMatchObject({ cause: 'network_error', code: 1006 });
    // Noticed from the FIN itself, not from a keepalive timeout.
    expect(down.at - closedAt).toBeLessThan(250);
    await other.check();
  });

  it.each([
    ['delay 40 ms per chunk', (proxy: FaultProxy) => proxy.delay(40)],
    ['throttle to 8 KB/s', (proxy: FaultProxy) => proxy.throttle(8 * 1024)]
  ])('%s: every message arrives, in order, on one connection, with the keepalive on', async (_label, degrade) => {
    const count = 100;
    const pad = '.'.repeat(100);
    const srv = await server();
    const echoed: string[] = [];
    onConnection(srv, (socket) => {
      socket.on('message', (data) => echoed.push(String(data)));
      for (let i = 0; i < count; i++) socket.send(`${i}${pad}`);
    });
    const proxy = await proxyTo(srv.url);
    degrade(proxy);
    const { pool, log, inbox } = logged({ pingInterval: 200, keepaliveTimeout: 1000, handshakeTimeout: 2000 });
    const other = await bystander(pool, log, inbox);
    const started = Date.now();
    const id = pool.connect(proxy.url);
    await log.nth('connected', 1, id);
    for (let i = 0; i < 20; i++) pool.send(id, `up ${i}`);

    await expect.poll(() => inbox.of(id).length, { timeout: 5000 }).toBe(count);
    await expect.poll(() => echoed.length, { timeout: 5000 }).toBe(20);

    // ~10 KB at 8 KB/s, or three 40 ms delays before the first frame: either way, slowed down.
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(inbox.of(id).map((data) => Number.parseInt(String(data), 10))).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(echoed).toEqual(Array.from({ length: 20 }, (_, i) => `up ${i}`));
    expect(log.kinds(id)).toEqual(['connected']);
    await other.check();
  });

  it('switching faults on a live connection (pass → delay → throttle → short black-hole → pass) loses and reorders nothing', async () => {
    const srv = await server();
    let sent = 0;
    onConnection(srv, (socket) => {
      const timer = setInterval(() => socket.send(String(sent++)), 5);
      socket.on('close', () => clearInterval(timer));
    });
    const proxy = await proxyTo(srv.url);
    const { pool, log, inbox } = logged({ pingInterval: 100, keepaliveTimeout: 800 });
    const id = pool.connect(proxy.url);
    await log.nth('connected', 1, id);

    for (const step of [() => proxy.delay(30), () => proxy.throttle(2000), () => proxy.blackhole(), () => proxy.pass()]) {
      await delay(250);
      step();
    }
    await delay(250);
    const target = sent;
    await expect.poll(() => inbox.of(id).length, { timeout: 5000 }).toBeGreaterThanOrEqual(target);

    const numbers = inbox.of(id).map(Number);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i));
    expect(log.kinds(id)).toEqual(['connected']);
    expect(proxy.accepted).toBe(1);
  });
});
