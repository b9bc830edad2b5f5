import { describe, expect, it } from 'vitest';
import {
  ConnectionUnavailableError,
  InvalidOptionError,
  InvalidPayloadError,
  NotReadyError,
  PeerNotFoundError,
  PoolClosedError,
  SecondReaderError,
  UnsupportedError,
  WriteFailedError,
  ErrorCodes,
  describeValue
} from '../src/errors.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { PoolEvent, Worker } from '../src/types.ts';
import { initialWorkerStats } from '../src/worker-stats.ts';
import { refusedUrl } from './helpers/servers.ts';
import { thrown } from './helpers/thrown.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';

// The everyday calls around the core: remove() as a promise, signal and
// asyncDispose, ready(), reconnect(), broadcast(), single-reader streams,
// retry.maxFlaps and the worker actors in the pool's system.

// Polls wait up to 5 s: on a loaded 2-core machine the 1 s default is too short for a few dials.
const WAIT = { timeout: 5000 };

const { pool: newPool, server: newServer } = usePoolFixture();

/** Reads every event of the pool into an array, in the background. */
function record(pool: Pool): PoolEvent[] {
  const events: PoolEvent[] = [];
  void (async () => {
    for await (const event of pool.events) events.push(event);
  })();
  return events;
}

const kinds = (events: PoolEvent[], id?: string): string[] => events.filter((e) => id === undefined || e.id === id).map((e) => e.kind);

describe('remove()', () => {
  it('returns a promise that resolves once the final disconnected has been delivered', async () => {
    const server = await newServer();
    const pool = newPool();
    const events = record(pool);
    const id = pool.connect(server.url);
    await pool.ready(id);
    const removed = pool.remove(id);
    expect(removed).toBeInstanceOf(Promise);
    expect(pool.peers()).toEqual([]);
    await removed;
    await Promise.resolve();
    expect(kinds(events)).toEqual(['connected', 'disconnected']);
    expect(pool.actor.getSnapshot().context.live).toBe(0);
  });

  it('still throws PeerNotFoundError synchronously for an unknown id', () => {
    const pool = newPool();
    expect(thrown(() => void pool.remove('ws://127.0.0.1:1/none'))).toBeInstanceOf(PeerNotFoundError);
  });
});

describe('signal and Symbol.asyncDispose', () => {
  it('closes the pool when its signal aborts', async () => {
    const server = await newServer();
    const controller = new AbortController();
    const pool = newPool({ signal: controller.signal });
    const id = pool.connect(server.url);
    await pool.ready(id);
    controller.abort();
    await expect.poll(() => pool.actor.getSnapshot().status, WAIT).toBe('done');
    expect(thrown(() => pool.connect(server.url))).toBeInstanceOf(PoolClosedError);
  });

  it('is closed from the start when the signal is already aborted', async () => {
    const pool = newPool({ signal: AbortSignal.abort() });
    expect(thrown(() => pool.connect('ws://127.0.0.1:1'))).toBeInstanceOf(PoolClosedError);
    await pool.close();
  });

  it('refuses a signal that is not an AbortSignal, naming it', () => {
    const error = thrown(() => createPool({ signal: { aborted: false } as never }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toBe('Expected `signal` to be an AbortSignal, got an object');
  });

  it('await using closes the pool at the end of the scope', async () => {
    const server = await newServer();
    let escaped: Pool | undefined;
    {
      await using pool = createPool({ closeTimeout: 200 });
      escaped = pool;
      await pool.ready(pool.connect(server.url));
      expect(server.sockets.size).toBe(1);
    }
    expect(escaped.actor.getSnapshot().status).toBe('done');
    await expect.poll(() => server.sockets.size, WAIT).toBe(0);
  });
});

describe('ready()', () => {
  it('resolves on the next connected, and at once for a peer already connected', async () => {
    const server = await newServer();
    const pool = newPool();
    const id = pool.connect(server.url);
    expect(pool.peerStats(id).connected).toBe(false);
    await pool.ready(id);
    expect(pool.peerStats(id).connected).toBe(true);
    await pool.ready(id, { timeout: 1 });
  });

  it('rejects with NotReadyError: timeout, abort (cause = signal reason), remove, close', async () => {
    const refused = await refusedUrl();
    const pool = newPool({ retry: { initialDelay: 10_000, maxDelay: 10_000 } });
    const a = pool.connect(`${refused}/a`);
    const b = pool.connect(`${refused}/b`);
    const c = pool.connect(`${refused}/c`);
    const d = pool.connect(`${refused}/d`);

    const timedOut = await pool.ready(a, { timeout: 30 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(NotReadyError);
    expect(timedOut).toMatchObject({ reason: 'timeout', code: 'HONEYBEE_ERR_NOT_READY' });
    expect((timedOut as Error).message).toBe(`Peer ${a} did not connect: the timeout ran out (30 ms).`);

    const controller = new AbortController();
    const aborted = pool.ready(b, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('user gave up'));
    expect(await aborted).toMatchObject({ reason: 'aborted', cause: new Error('user gave up') });
    expect(await pool.ready(b, { signal: controller.signal }).catch((e: unknown) => e)).toMatchObject({ reason: 'aborted' });

    const removed = pool.ready(c).catch((e: unknown) => e);
    void pool.remove(c);
    expect(await removed).toMatchObject({ reason: 'removed' });

    const closed = pool.ready(d).catch((e: unknown) => e);
    await pool.close();
    expect(await closed).toMatchObject({ reason: 'closed' });
    await expect(pool.ready(d)).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('rejects when the peer retires, and for an unknown id or bad options', async () => {
    const refused = await refusedUrl();
    const pool = newPool({ retry: { maxRetries: 1, initialDelay: 10, maxDelay: 10 } });
    const id = pool.connect(refused);
    const error = await pool.ready(id).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'retired' });
    expect((error as Error).message).toBe(`Peer ${id} did not connect: the peer retired (its retry policy gave up) after 2 attempts.`);
    await expect(pool.ready('ws://127.0.0.1:1/none')).rejects.toBeInstanceOf(PeerNotFoundError);
    const other = pool.connect(`${refused}/other`);
    await expect(pool.ready(other, { timeout: -1 })).rejects.toThrow('Expected `timeout` to be a number of milliseconds above 0');
    await expect(pool.ready(other, { signal: 'x' as never })).rejects.toThrow('Expected `signal` to be an AbortSignal, got "x"');
  });
});

describe('reconnect()', () => {
  it('drops an open connection and redials at once', async () => {
    const server = await newServer();
    const pool = newPool({ reconnectDelay: 60_000 });
    const events = record(pool);
    const id = pool.connect(server.url);
    await pool.ready(id);
    const first = [...server.sockets][0];
    const next = server.nextConnection();
    pool.reconnect(id);
    await next;
    await pool.ready(id);
    expect(first?.readyState).not.toBe(first?.OPEN);
    expect(kinds(events)).toEqual(['connected', 'disconnected', 'connected']);
    expect(events[1]).toMatchObject({ cause: 'local_stop', code: 1000, reason: 'reconnect requested' });
  });

  it('sends the first connection a close frame with 1000 reconnect requested, then connects again', async () => {
    const server = await newServer();
    const pool = newPool({ reconnectDelay: 60_000 });
    const firstConnection = server.nextConnection();
    const id = pool.connect(server.url);
    await pool.ready(id);
    const first = await firstConnection;
    const closed = new Promise<[number, string]>((resolve) => first.once('close', (code, reason) => resolve([code, reason.toString()])));
    const second = server.nextConnection();
    pool.reconnect(id);
    expect(await closed).toEqual([1000, 'reconnect requested']);
    expect(await second).not.toBe(first);
    await pool.ready(id);
    expect(server.sockets.size).toBe(1);
  });

  it('redials at once out of a long backoff', async () => {
    let accept = false;
    const server = await newServer({ verifyClient: (_info, done) => done(accept, 503) });
    const pool = newPool({ retry: { initialDelay: 60_000, maxDelay: 60_000 } });
    const events = record(pool);
    const id = pool.connect(server.url);
    await expect.poll(() => kinds(events), WAIT).toEqual(['dial_failed', 'dial_failed']); // the first retry is immediate
    expect(pool.peerStats(id).state).toBe('backoff');
    accept = true;
    pool.reconnect(id);
    await pool.ready(id, { timeout: 5000 });
    expect(kinds(events)).toEqual(['dial_failed', 'dial_failed', 'connected']);
  });

  it('throws UnsupportedError for a custom worker without reconnect(), PeerNotFoundError for an unknown id', () => {
    let finish = (): void => {};
    const worker: Worker = {
      start: () => new Promise((resolve) => (finish = resolve)),
      stop: () => finish(),
      send: () => {},
      stats: () => initialWorkerStats('x')
    };
    const pool = newPool({ workerFactory: () => worker });
    const id = pool.connect('ws://127.0.0.1:1');
    expect(thrown(() => pool.reconnect(id))).toBeInstanceOf(UnsupportedError);
    expect(thrown(() => pool.reconnect('ws://127.0.0.1:2'))).toBeInstanceOf(PeerNotFoundError);
  });
});

describe('broadcast()', () => {
  it('sends to every connected peer and lists the refusals instead of throwing half-way', async () => {
    const server = await newServer();
    const received: string[] = [];
    server.wss.on('connection', (socket, request) => socket.on('message', (data) => received.push(`${request.url} ${String(data)}`)));
    const refused = await refusedUrl();
    const pool = newPool({ retry: { initialDelay: 60_000, maxDelay: 60_000 } });
    const a = pool.connect(`${server.url}/a`);
    const down = pool.connect(refused);
    const b = pool.connect(`${server.url}/b`);
    await Promise.all([pool.ready(a), pool.ready(b)]);
    const result = pool.broadcast('hi');
    expect(result.sent).toEqual([a, b]);
    expect(result.refused.map((r) => r.id)).toEqual([down]);
    expect(result.refused[0]?.error).toBeInstanceOf(ConnectionUnavailableError);
    // Typed as the HoneybeeError send throws: its code and message read without a cast (strict TS).
    expect(result.refused.map((r) => r.error.code)).toEqual([ErrorCodes.CONNECTION_UNAVAILABLE]);
    expect(pool.broadcast('only-b', (id) => id === b)).toEqual({ sent: [b], refused: [] });
    await expect.poll(() => received.sort(), WAIT).toEqual(['/a hi', '/b hi', '/b only-b']);
    expect(pool.stats().totalSent).toBe(3);
  });

  it('reports a custom worker that throws a non-HoneybeeError as a WriteFailedError', () => {
    let finish = (): void => {};
    const worker: Worker = {
      start: () => new Promise<void>((resolve) => (finish = resolve)),
      stop: () => finish(),
      send: () => {
        throw new TypeError('socket gone');
      },
      stats: () => initialWorkerStats('x')
    };
    const pool = newPool({ workerFactory: () => worker });
    const id = pool.connect('ws://127.0.0.1:1');
    const [refusal] = pool.broadcast('hi').refused;
    expect(refusal?.id).toBe(id);
    expect(refusal?.error).toBeInstanceOf(WriteFailedError);
    expect(refusal?.error.message).toContain('socket gone');
  });

  it('refuses a bad payload or filter before sending anything', () => {
    const pool = newPool();
    expect(thrown(() => pool.broadcast(42 as never))).toBeInstanceOf(InvalidPayloadError);
    expect(thrown(() => pool.broadcast('x', 'a' as never))).toBeInstanceOf(InvalidOptionError);
  });
});

describe('single-reader streams', () => {
  it('a second concurrent inbox or events iterator throws SecondReaderError; after break a new loop may read', async () => {
    const pool = newPool();
    const first = pool.inbox[Symbol.asyncIterator]();
    const second = thrown(() => pool.inbox[Symbol.asyncIterator]());
    expect(second).toBeInstanceOf(SecondReaderError);
    expect((second as Error).message).toContain('Cannot read the inbox twice at once');
    expect(thrown(() => pool.inbox.batches(10))).toBeInstanceOf(SecondReaderError);
    await first.return?.();
    expect(() => pool.inbox.batches(10)).not.toThrow();

    const events = pool.events[Symbol.asyncIterator]();
    expect(thrown(() => pool.events[Symbol.asyncIterator]())).toBeInstanceOf(SecondReaderError);
    await events.return?.();
    expect(() => pool.events[Symbol.asyncIterator]()).not.toThrow();
  });

  it('pool.events has shift() and drain() like the inbox', async () => {
    const refused = await refusedUrl();
    const pool = newPool({ retry: { initialDelay: 10, maxDelay: 10 } });
    pool.connect(refused);
    await expect.poll(() => pool.events.depth, WAIT).toBeGreaterThanOrEqual(3);
    expect(pool.events.shift()?.kind).toBe('dial_failed');
    expect(pool.events.drain(2).map((e) => e.kind)).toEqual(['dial_failed', 'dial_failed']);
    expect(pool.events.drain().every((e) => e.kind === 'dial_failed')).toBe(true);
    expect(pool.events.drain()).toEqual([]);
  });
});

describe('retry.maxFlaps', () => {
  it('retires a peer whose server accepts and drops every connection', async () => {
    const server = await newServer();
    server.wss.on('connection', (socket) => socket.close(4000, 'go away'));
    const pool = newPool({ reconnectDelay: 1, minUptime: 5000, retry: { maxFlaps: 3, initialDelay: 1, maxDelay: 5 } });
    const events = record(pool);
    const id = pool.connect(server.url);
    await expect.poll(() => kinds(events).at(-1), WAIT).toBe('retired');
    expect(kinds(events)).toEqual(['connected', 'disconnected', 'connected', 'disconnected', 'connected', 'disconnected', 'retired']);
    expect(pool.peers()).not.toContain(id);
  });

  it('validates maxFlaps', () => {
    expect(() => createPool({ retry: { maxFlaps: -1 } })).toThrow('Expected `retry.maxFlaps` to be an integer ≥ 0, got -1');
  });
});

describe('worker actors in the pool system', () => {
  it('pool.actor.system.get(id) is the peer worker actor while it runs', async () => {
    const server = await newServer();
    const pool = newPool();
    const id = pool.connect(`${server.url}/x?token=abc`);
    await pool.ready(id);
    const worker = pool.actor.system.get(id);
    expect(worker?.getSnapshot().hasTag('connected')).toBe(true);
    await pool.remove(id);
    expect(pool.actor.system.get(id)).toBeUndefined();
  });

  it('connecting an id again while its removed worker still closes starts the new worker after the old one finished', async () => {
    const server = await newServer();
    const pool = newPool();
    const events = record(pool);
    const id = pool.connect(server.url);
    await pool.ready(id);
    const old = pool.actor.system.get(id);
    const removed = pool.remove(id);
    expect(old?.getSnapshot().hasTag('closing')).toBe(true);
    expect(pool.connect(server.url)).toBe(id);
    await pool.ready(id);
    await removed;
    const current = pool.actor.system.get(id);
    expect(current).not.toBe(old);
    expect(current?.getSnapshot().hasTag('connected')).toBe(true);
    expect(kinds(events)).toEqual(['connected', 'disconnected', 'connected']);
  });
});

describe('logger', () => {
  it("accepts any object with pino's method shape, and writes through its child()", async () => {
    const lines: Array<{ level: string; bindings: Record<string, unknown>; fields: unknown; message: string | undefined }> = [];
    const recorder = (bindings: Record<string, unknown>) => {
      const at =
        (level: string) =>
        (fields: unknown, message?: string): void =>
          void lines.push({ level, bindings, fields, message });
      const logger = {
        debug: at('debug'),
        info: at('info'),
        warn: at('warn'),
        error: at('error'),
        child: (more: Record<string, unknown>) => recorder({ ...bindings, ...more })
      };
      return logger;
    };
    const refused = await refusedUrl();
    const pool = newPool({ id: 'recorded', logger: recorder({ app: 'x' }), retry: { maxRetries: 1, initialDelay: 5, maxDelay: 5 } });
    const id = pool.connect(`${refused}/?token=secret-1`);
    await pool.ready(id).catch(() => undefined);
    await pool.close();
    expect(lines.some((line) => line.level === 'warn' && line.message === 'dial failed')).toBe(true);
    expect(lines.find((line) => line.message === 'dial failed')?.bindings).toMatchObject({
      app: 'x',
      module: 'honeybee',
      pool: 'recorded',
      peer: `${refused}?token=***`
    });
    expect(thrown(() => createPool({ logger: { info() {} } as never }))).toBeInstanceOf(InvalidOptionError);
  });
});

describe('messages', () => {
  it('says "an" before a vowel-initial class name', () => {
    expect(describeValue(new AbortController().signal)).toBe('an AbortSignal');
    expect(describeValue(new Map())).toBe('a Map');
    expect(describeValue(new Uint8Array(1))).toBe('a Uint8Array');
    expect(describeValue(new Error('x'))).toBe('an Error');
  });
});
