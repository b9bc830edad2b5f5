import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { defaultWorkerFactory } from '../src/default-worker.ts';
import { throwingTransport } from './helpers/transports.ts';
import {
  ConnectionUnavailableError,
  DialFailedError,
  ErrorCodes,
  FactoryError,
  HoneybeeError,
  InvalidPayloadError,
  InvalidPoolIdError,
  PeerExistsError,
  PeerNotFoundError,
  PoolClosedError
} from '../src/errors.ts';
import { DEFAULTS } from '../src/options.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { Transport } from '../src/transport.ts';
import type { PeerStats, PoolEvent, PoolPlugin, Worker, WorkerFactory, WorkerStats } from '../src/types.ts';
import { VERSION } from '../src/version.ts';
import { collect, refusedUrl, startHungServer } from './helpers/servers.ts';
import { initialWorkerStats } from '../src/worker-stats.ts';
import { thrown } from './helpers/thrown.ts';
import { captureLogger } from './helpers/capture-logger.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';

// ---------------------------------------------------------------------------
// Fixtures: every pool and server a test opens is closed after it.

const { pool: newPool, server, track } = usePoolFixture();

/** Resolves after the I/O callbacks of this turn, when the pool actor has re-emitted its events. */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Asserts `fn` throws an instance of `type` carrying `code`, and returns the error. */
function expectHoneybeeError<T extends HoneybeeError>(fn: () => unknown, type: abstract new (...args: never[]) => T, code: string): T {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(type);
  expect((error as HoneybeeError).code).toBe(code);
  return error as T;
}

/** Rejects if `promise` has not settled within `ms` (a deadline, not a sleep). */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads `pool.events` into `items`; `waitFor` resolves with the first match at or after `from`. */
interface EventRecorder {
  readonly items: PoolEvent[];
  waitFor(match: (event: PoolEvent) => boolean, from?: number): Promise<{ event: PoolEvent; index: number }>;
  readonly done: Promise<void>;
}

function recordEvents(pool: Pool): EventRecorder {
  const items: PoolEvent[] = [];
  type Waiter = { match: (event: PoolEvent) => boolean; from: number; resolve: (hit: { event: PoolEvent; index: number }) => void; reject: (error: Error) => void };
  let waiters: Waiter[] = [];
  const done = (async () => {
    for await (const event of pool.events) {
      const index = items.push(event) - 1;
      waiters = waiters.filter((waiter) => {
        if (index < waiter.from || !waiter.match(event)) return true;
        waiter.resolve({ event, index });
        return false;
      });
    }
    for (const waiter of waiters) waiter.reject(new Error('the events stream ended without the awaited event'));
    waiters = [];
  })();
  return {
    items,
    done,
    waitFor(match, from = 0) {
      for (let index = from; index < items.length; index++) {
        const event = items[index] as PoolEvent;
        if (match(event)) return Promise.resolve({ event, index });
      }
      return new Promise((resolve, reject) => waiters.push({ match, from, resolve, reject }));
    }
  };
}

const kindOf =
  (kind: PoolEvent['kind'], id?: string) =>
  (event: PoolEvent): boolean =>
    event.kind === kind && (id === undefined || event.id === id);

const STATS: WorkerStats = initialWorkerStats('custom');

/** A plain-object worker whose start() settles only when stop() is called; it ignores ctx.signal. */
function stubbornWorker(onStart: (plugin: PoolPlugin) => void = () => {}): Worker & { stopCalls: number } {
  let release: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (release = resolve));
  const worker = {
    stopCalls: 0,
    start(plugin: PoolPlugin): Promise<void> {
      onStart(plugin);
      return stopped;
    },
    stop(): void {
      worker.stopCalls += 1;
      release?.();
    },
    send(): void {
      throw new Error('stubborn worker cannot send');
    },
    stats: (): WorkerStats => ({ ...STATS })
  };
  return worker;
}

/** Sends text frames as fast as the socket accepts them, until it closes. */
function flood(socket: WebSocket): void {
  const payload = 'x'.repeat(256);
  const pump = (): void => {
    if (socket.readyState !== socket.OPEN) return;
    while (socket.bufferedAmount < 1 << 20) socket.send(payload);
    setImmediate(pump);
  };
  pump();
}

// ---------------------------------------------------------------------------

describe('Pool', () => {
  describe('createPool', () => {
    it('rejects an empty pool id with InvalidPoolIdError', () => {
      const error = expectHoneybeeError(() => createPool({ id: '' }), InvalidPoolIdError, ErrorCodes.INVALID_POOL_ID);
      expect(error.message).toContain('`id`');
    });
  });

  describe('connect', () => {
    it('returns the normalized id, then emits connected with that id, and peers() lists it', async () => {
      const srv = await server();
      const pool = newPool();
      const events = recordEvents(pool);
      const id = pool.connect(`${srv.url.replace('ws://', 'WS://')}/`);
      expect(id).toBe(srv.url);
      expect(pool.peers()).toEqual([srv.url]);
      const { event } = await events.waitFor(kindOf('connected'));
      expect(event.id).toBe(id);
      expect(typeof event.at).toBe('number');
      expect(pool.peers()).toEqual([id]);
      expect(pool.peerStats(`${srv.url}/`).state).toBe('connected');
    });

    it('rejects a URL that normalizes to a registered id with PeerExistsError', async () => {
      const srv = await server();
      const pool = newPool();
      pool.connect(srv.url);
      const error = expectHoneybeeError(() => pool.connect(`${srv.url}/`), PeerExistsError, ErrorCodes.PEER_EXISTS);
      expect(error.peer).toBe(srv.url);
      expect(pool.peers()).toEqual([srv.url]);
    });

    it('forwards per-connect headers and subprotocols to the handshake, with the default User-Agent', async () => {
      const srv = await server();
      const seen: Array<{ path: string | undefined; headers: Record<string, unknown>; protocol: string }> = [];
      srv.wss.on('connection', (socket, request) => seen.push({ path: request.url, headers: request.headers, protocol: socket.protocol }));
      const pool = newPool();
      const events = recordEvents(pool);
      const a = pool.connect(`${srv.url}/a`, { headers: { 'X-Custom': 'abc' }, protocols: ['chat.v2', 'chat.v1'] });
      const b = pool.connect(`${srv.url}/b`, { headers: { 'user-agent': 'mine/1' } });
      await events.waitFor(kindOf('connected', a));
      await events.waitFor(kindOf('connected', b));
      const atA = seen.find((s) => s.path === '/a');
      const atB = seen.find((s) => s.path === '/b');
      expect(atA?.headers['x-custom']).toBe('abc');
      expect(atA?.headers['user-agent']).toBe(`honeybee/${VERSION}`);
      expect(String(atA?.headers['sec-websocket-protocol']).split(/, */)).toEqual(['chat.v2', 'chat.v1']);
      expect(atA?.protocol).toBe('chat.v2');
      expect(atB?.headers['user-agent']).toBe('mine/1');
      expect(atB?.headers['x-custom']).toBeUndefined();
      expect(atB?.headers['sec-websocket-protocol']).toBeUndefined();
    });
  });

  describe('inbox', () => {
    it('delivers the same stream through batches() as through for await, in order', async () => {
      const srv = await server();
      srv.wss.on('connection', (socket) => {
        for (let i = 0; i < 300; i++) socket.send(`m${i}`);
      });
      const pool = newPool();
      const id = pool.connect(srv.url);
      const seen: string[] = [];
      for await (const batch of pool.inbox.batches(64)) {
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.length).toBeLessThanOrEqual(64);
        for (const message of batch) {
          expect(message.id).toBe(id);
          seen.push(message.data as string);
        }
        if (seen.length === 300) break;
      }
      expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => `m${i}`));
      expect(pool.inbox.drain()).toEqual([]);
      expect(pool.inbox.depth).toBe(0);
    });
  });

  describe('after close', () => {
    it('connect, send and remove fail with PoolClosedError, peers() is empty, close is idempotent', async () => {
      const srv = await server();
      const pool = newPool();
      const events = recordEvents(pool);
      const id = pool.connect(srv.url);
      await events.waitFor(kindOf('connected', id));
      const first = pool.close();
      // Empty from the moment close() is called, not only once it resolves.
      expect(pool.peers()).toEqual([]);
      expectHoneybeeError(() => pool.send(id, 'x'), PoolClosedError, ErrorCodes.POOL_CLOSED);
      const second = pool.close();
      expect(second).toBe(first);
      await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
      await expect(pool.close()).resolves.toBeUndefined();
      expect(pool.peers()).toEqual([]);
      expectHoneybeeError(() => pool.connect(srv.url), PoolClosedError, ErrorCodes.POOL_CLOSED);
      expectHoneybeeError(() => pool.connect(`${srv.url}/other`), PoolClosedError, ErrorCodes.POOL_CLOSED);
      expectHoneybeeError(() => pool.send(id, 'x'), PoolClosedError, ErrorCodes.POOL_CLOSED);
      expectHoneybeeError(() => pool.remove(id), PoolClosedError, ErrorCodes.POOL_CLOSED);
      expect(pool.actor.getSnapshot().status).toBe('done');
    });
  });

  describe('close', () => {
    it('on an empty pool resolves and ends both iterators', async () => {
      const pool = newPool();
      const inbox = collect(pool.inbox);
      const events = collect(pool.events);
      await within(2000, pool.close(), 'close()');
      await within(2000, Promise.all([inbox.done, events.done]), 'the iterators');
      expect(inbox.items).toEqual([]);
      expect(events.items).toEqual([]);
    });

    it('resolves while nobody reads the inbox or the events and connected peers flood', async () => {
      const servers = await Promise.all([server(), server(), server()]);
      for (const srv of servers) srv.wss.on('connection', flood);
      // The default closeTimeout: a paused socket cannot read the peer's close reply.
      const pool = newPool({ inboxSize: 8, eventsSize: 1, closeTimeout: DEFAULTS.closeTimeout });
      const connected = new Set<string>();
      pool.actor.on('connected', (event) => connected.add(event.id));
      for (const srv of servers) pool.connect(srv.url);
      await expect.poll(() => connected.size, { timeout: 5000 }).toBe(3);
      // The inbox is full and the workers have stopped reading their sockets.
      await expect.poll(() => pool.stats().inboxDepth, { timeout: 5000 }).toBeGreaterThanOrEqual(8);
      await expect.poll(() => pool.stats().peers.filter((p) => p.paused).length, { timeout: 5000 }).toBeGreaterThan(0);
      expect(pool.stats().eventsDropped).toBeGreaterThan(0);
      await within(4000, pool.close(), 'close() with a full inbox and events stream');
      expect(pool.peers()).toEqual([]);
    });

    it('calls stop() on a custom worker that ignores the abort signal, resolves, and aborts the factory signal', async () => {
      const workers: Array<ReturnType<typeof stubbornWorker>> = [];
      const signals: AbortSignal[] = [];
      const started: string[] = [];
      const factory: WorkerFactory = (ctx, id) => {
        signals.push(ctx.signal);
        const worker = stubbornWorker(() => started.push(id));
        workers.push(worker);
        return worker;
      };
      const pool = newPool({ workerFactory: factory });
      pool.connect('ws://127.0.0.1:9/one');
      pool.connect('ws://127.0.0.1:9/two');
      await expect.poll(() => started.length).toBe(2);
      expect(signals.every((signal) => !signal.aborted)).toBe(true);
      expect(workers.map((w) => w.stopCalls)).toEqual([0, 0]);
      await within(2000, pool.close(), 'close()');
      expect(workers.map((w) => w.stopCalls >= 1)).toEqual([true, true]);
      expect(signals.every((signal) => signal.aborted)).toBe(true);
    });
  });

  describe('remove', () => {
    it('returns at once for a connected peer; disconnected (local_stop) follows and the id can be connected again', async () => {
      const srv = await server();
      const pool = newPool();
      const events = recordEvents(pool);
      const firstConnection = srv.nextConnection();
      const id = pool.connect(srv.url);
      const { index: firstUp } = await events.waitFor(kindOf('connected', id));
      const serverSide = await firstConnection;
      const closeCode = new Promise<number>((resolve) => serverSide.once('close', (code) => resolve(code)));

      const removed = pool.remove(id);
      expect(removed).toBeInstanceOf(Promise);
      // It did not wait for the close handshake: the server has not seen the close yet.
      expect(serverSide.readyState).toBe(serverSide.OPEN);
      expect(pool.peers()).not.toContain(id);
      expectHoneybeeError(() => pool.send(id, 'x'), PeerNotFoundError, ErrorCodes.PEER_NOT_FOUND);

      // The same id is free again at once.
      expect(pool.connect(`${srv.url}/`)).toBe(id);
      expect(pool.peers()).toEqual([id]);

      const down = await events.waitFor(kindOf('disconnected', id), firstUp + 1);
      expect(down.event).toMatchObject({ kind: 'disconnected', cause: 'local_stop', code: 1000 });
      await events.waitFor(kindOf('connected', id), firstUp + 1);
      expect(await closeCode).toBe(1000);
      expect(pool.peers()).toEqual([id]);
    });

    it('rejects an unknown id with PeerNotFoundError, as does send', async () => {
      const srv = await server();
      const pool = newPool();
      pool.connect(srv.url);
      const unknown = `${srv.url}/nobody`;
      const removeError = expectHoneybeeError(() => pool.remove(unknown), PeerNotFoundError, ErrorCodes.PEER_NOT_FOUND);
      expect(removeError.peer).toBe(unknown);
      expectHoneybeeError(() => pool.send(unknown, 'x'), PeerNotFoundError, ErrorCodes.PEER_NOT_FOUND);
      expectHoneybeeError(() => pool.send(`${unknown}/`, 'x'), PeerNotFoundError, ErrorCodes.PEER_NOT_FOUND);
      expect(pool.peers()).toEqual([srv.url]);
    });
  });

  describe('send', () => {
    it('delivers a text frame for a string and binary frames for a Uint8Array and an ArrayBuffer', async () => {
      const srv = await server();
      const received: Array<{ isBinary: boolean; data: Buffer }> = [];
      srv.wss.on('connection', (socket) => socket.on('message', (data, isBinary) => received.push({ isBinary, data: data as Buffer })));
      const pool = newPool();
      const events = recordEvents(pool);
      const id = pool.connect(srv.url);
      await events.waitFor(kindOf('connected', id));
      pool.send(id, 'héllo');
      pool.send(id, new Uint8Array([1, 2, 3]));
      pool.send(`${id}/`, new Uint8Array([9, 8, 7, 6]).buffer);
      await expect.poll(() => received.length).toBe(3);
      expect(received[0]?.isBinary).toBe(false);
      expect(received[0]?.data.toString('utf8')).toBe('héllo');
      expect(received[1]?.isBinary).toBe(true);
      expect([...(received[1]?.data ?? [])]).toEqual([1, 2, 3]);
      expect(received[2]?.isBinary).toBe(true);
      expect([...(received[2]?.data ?? [])]).toEqual([9, 8, 7, 6]);
      expect(pool.stats().totalSent).toBe(3);
      expect(pool.peerStats(id).sent).toBe(3);
    });

    it('fails with ConnectionUnavailableError naming the state while dialing', async () => {
      const hung = track(await startHungServer());
      const pool = newPool({ handshakeTimeout: 10_000 });
      const id = pool.connect(hung.url);
      await expect.poll(() => hung.sockets.size).toBe(1);
      const error = expectHoneybeeError(() => pool.send(id, 'x'), ConnectionUnavailableError, ErrorCodes.CONNECTION_UNAVAILABLE);
      expect(error.state).toBe('dialing');
      expect(error.message).toContain('dialing');
      // Nothing has failed yet, so there is no cause to give.
      expect(error.cause).toBeUndefined();
      expect(pool.stats().totalSent).toBe(0);
    });

    it('fails with ConnectionUnavailableError naming the state in backoff', async () => {
      const url = await refusedUrl();
      const pool = newPool({ retry: { initialDelay: 60_000, maxDelay: 60_000, jitter: 0 } });
      const events = recordEvents(pool);
      const id = pool.connect(url);
      // The first retry is immediate; after the second failure the worker waits a minute.
      const { event: lastDial } = await events.waitFor((event) => event.kind === 'dial_failed' && event.attempt === 2);
      expect(pool.peerStats(id).state).toBe('backoff');
      const error = expectHoneybeeError(() => pool.send(id, 'x'), ConnectionUnavailableError, ErrorCodes.CONNECTION_UNAVAILABLE);
      expect(error.state).toBe('backoff');
      expect(error.message).toContain('it is in backoff, not connected');
      // Why it is down: the last dial's error, as its dial_failed event gave it.
      const reason = (lastDial as Extract<PoolEvent, { kind: 'dial_failed' }>).error;
      expect(reason).toContain('ECONNREFUSED');
      expect(error.cause).toBeInstanceOf(DialFailedError);
      expect(error.cause).toMatchObject({ code: ErrorCodes.DIAL_FAILED, reason });
      expect(error.message).toContain(`its last dial failed: ${reason}`);
      expect(pool.stats().totalSent).toBe(0);
    });

    it('rejects payloads of a wrong type with InvalidPayloadError and keeps working', async () => {
      const srv = await server();
      const received: string[] = [];
      srv.wss.on('connection', (socket) => socket.on('message', (data) => received.push(String(data))));
      const pool = newPool();
      const events = recordEvents(pool);
      const id = pool.connect(srv.url);
      await events.waitFor(kindOf('connected', id));
      for (const bad of [undefined, null, 42, { text: 'hi' }, ['a']]) {
        expectHoneybeeError(() => pool.send(id, bad as never), InvalidPayloadError, ErrorCodes.INVALID_PAYLOAD);
      }
      expect(pool.stats().totalSent).toBe(0);
      pool.send(id, 'still fine');
      await expect.poll(() => received).toEqual(['still fine']);
      expect(pool.stats().totalSent).toBe(1);
      expect(pool.peerStats(id).state).toBe('connected');
    });
  });

  describe('workerFactory', () => {
    it('a factory that throws makes connect throw the same error and registers nothing', async () => {
      const boom = new Error('factory exploded');
      const pool = newPool({
        workerFactory: () => {
          throw boom;
        }
      });
      expect(thrown(() => pool.connect('ws://127.0.0.1:9/x'))).toBe(boom);
      expect(pool.peers()).toEqual([]);
      expect(pool.stats().peerCount).toBe(0);
      await within(2000, pool.close(), 'close()');
    });

    it.each([
      ['returns a Promise', 'promise'],
      ['returns a thenable', 'thenable'],
      ['calls pool.peers()', 'peers'],
      ['calls pool.stats()', 'stats'],
      ['calls pool.connect() and swallows its error', 'connect'],
      ['calls pool.send()', 'send'],
      ['calls pool.close()', 'close']
    ] as const)('a factory that %s is rejected with FactoryError; nothing is registered', async (_label, mode) => {
      const srv = await server();
      let current: typeof mode | 'normal' = mode;
      const factory: WorkerFactory = (ctx, id, logger) => {
        const worker = defaultWorkerFactory(ctx, id, logger);
        switch (current) {
          case 'promise':
            return Promise.resolve(worker) as unknown as Worker;
          case 'thenable':
            return { then: () => {} } as unknown as Worker;
          case 'peers':
            pool.peers();
            break;
          case 'stats':
            pool.stats();
            break;
          case 'connect':
            try {
              pool.connect(`${srv.url}/inner`);
            } catch {
              // A careless factory swallowing the error must still be caught.
            }
            break;
          case 'send':
            pool.send(id, 'x');
            break;
          case 'close':
            void pool.close();
            break;
          case 'normal':
            break;
        }
        return worker;
      };
      const pool: Pool = newPool({ workerFactory: factory });
      const events = recordEvents(pool);
      expectHoneybeeError(() => pool.connect(srv.url), FactoryError, ErrorCodes.FACTORY);
      expect(pool.peers()).toEqual([]);
      expect(pool.stats().peerCount).toBe(0);

      current = 'normal';
      const id = pool.connect(srv.url);
      expect(pool.peers()).toEqual([id]);
      await events.waitFor(kindOf('connected', id));
    });
  });

  describe('stats', () => {
    it('counts delivered messages and successful sends; per-peer counters never go down across reconnects', async () => {
      const srv = await server();
      let serverSide: WebSocket | undefined;
      srv.wss.on('connection', (socket) => {
        serverSide = socket;
        for (let i = 0; i < 5; i++) socket.send(`m${i}`);
      });
      const pool = newPool({ minUptime: 0 });
      const events = recordEvents(pool);
      const inbox = collect(pool.inbox);
      const id = pool.connect(srv.url);
      const samples: PeerStats[] = [];
      let sent = 0;
      let from = 0;
      for (let round = 1; round <= 3; round++) {
        const up = await events.waitFor(kindOf('connected', id), from);
        await expect.poll(() => inbox.items.length).toBe(5 * round);
        expect(pool.stats().totalReceived).toBe(inbox.items.length);
        pool.send(id, `reply ${round}`);
        sent += 1;
        expectHoneybeeError(() => pool.send(id, 42 as never), InvalidPayloadError, ErrorCodes.INVALID_PAYLOAD);
        expect(pool.stats().totalSent).toBe(sent);
        samples.push(pool.peerStats(id));
        if (round < 3) {
          serverSide?.close(1000, 'again');
          const down = await events.waitFor(kindOf('disconnected', id), up.index + 1);
          expect(down.event).toMatchObject({ cause: 'remote_close', code: 1000 });
          // In backoff now: the send fails and is not counted.
          expectHoneybeeError(() => pool.send(id, 'lost'), ConnectionUnavailableError, ErrorCodes.CONNECTION_UNAVAILABLE);
          samples.push(pool.peerStats(id));
          from = down.index + 1;
        }
      }
      expect(pool.stats().totalSent).toBe(sent);
      expect(pool.stats().totalReceived).toBe(15);
      for (const key of ['received', 'sent', 'bytesIn', 'bytesOut', 'restarts'] as const) {
        const series = samples.map((sample) => sample[key]);
        expect(series, key).toEqual([...series].sort((a, b) => a - b));
      }
      const last = samples.at(-1) as PeerStats;
      expect(last.received).toBe(15);
      expect(last.sent).toBe(3);
      expect(last.restarts).toBe(2);
      await pool.close();
      await inbox.done;
      expect(inbox.items.map((m) => m.data)).toEqual(Array.from({ length: 3 }, () => ['m0', 'm1', 'm2', 'm3', 'm4']).flat());
      expect(inbox.items.every((m) => m.id === id)).toBe(true);
    });
  });

  describe('pool.actor', () => {
    it("on('connected') and on('disconnected') receive the same events as pool.events", async () => {
      const [a, b] = await Promise.all([server(), server()]);
      const pool = newPool();
      const fromActor: Array<{ kind: string; id: string; at: number }> = [];
      pool.actor.on('connected', (event) => fromActor.push({ kind: event.type, id: event.id, at: event.at }));
      pool.actor.on('disconnected', (event) => fromActor.push({ kind: event.type, id: event.id, at: event.at }));
      const events = recordEvents(pool);
      const idA = pool.connect(a.url);
      const idB = pool.connect(b.url);
      await events.waitFor(kindOf('connected', idA));
      await events.waitFor(kindOf('connected', idB));
      pool.remove(idA);
      await events.waitFor(kindOf('disconnected', idA));
      await endOfTurn();
      const fromStream = events.items.map((event) => ({ kind: event.kind, id: event.id, at: event.at }));
      expect(fromStream.map((e) => e.kind).sort()).toEqual(['connected', 'connected', 'disconnected']);
      expect(fromActor).toEqual(fromStream);
    });
  });

  describe('worker ends', () => {
    it("a worker's clean end reaches the pool machine as peer.finished, and XState's own done event arrives as XState sends it", async () => {
      const target = await server();
      const events: Array<{ to: unknown; event: { type: string; ids?: readonly string[]; events?: readonly { type: string }[] } }> = [];
      const pool = newPool({
        inspect: (inspection) => {
          if (inspection.type === '@xstate.event') events.push({ to: inspection.actorRef, event: inspection.event });
        }
      });
      const ids = Array.from({ length: 20 }, (_, i) => pool.connect(`${target.url}/p${i}`));
      await Promise.all(ids.map((id) => pool.ready(id, { timeout: 5000 })));
      await pool.close();
      // The workers ran as actors of the pool's system (their sockets opened).
      expect(events.filter(({ event }) => event.type === 'socket.open')).toHaveLength(ids.length);
      const toPool = events.filter(({ to }) => to === pool.actor).map(({ event }) => event);
      const finished = toPool.filter((event) => event.type === 'peer.finished').flatMap((event) => event.ids ?? []);
      expect([...finished].sort()).toEqual([...ids].sort());
      // Nothing of XState's is swallowed: every worker's done event reaches the pool actor (and the inspector).
      expect(toPool.filter((event) => event.type.startsWith('xstate.done.actor.'))).toHaveLength(ids.length);
      // close() stopped every worker in one turn: their `disconnected` events reached the machine in one event.
      const reported = toPool.filter((event) => event.type === 'peer.events').map((event) => (event.events ?? []).map((e) => e.type));
      expect(reported.flat().filter((type) => type === 'connected')).toHaveLength(ids.length);
      expect(reported.filter((types) => types.includes('disconnected'))).toEqual([expect.arrayContaining(['disconnected'])]);
      expect(reported.flat().filter((type) => type === 'disconnected')).toHaveLength(ids.length);
      expect(pool.actor.getSnapshot().context.live).toBe(0);
    });

    it('counts the workers that end in one turn with one peer.finished event', async () => {
      const finished: Array<readonly string[]> = [];
      const pool = newPool({
        inspect: (inspection) => {
          if (inspection.type !== '@xstate.event') return;
          const event = inspection.event as { type: string; ids?: readonly string[] };
          if (event.type === 'peer.finished') finished.push(event.ids ?? []);
        }
      });
      const events = recordEvents(pool);
      const url = await refusedUrl();
      const ids = Array.from({ length: 5 }, (_, i) => pool.connect(`${url}/p${i}`));
      for (const id of ids) await events.waitFor(kindOf('dial_failed', id));
      // Stopped in backoff, every worker ends at once, in the turn of close().
      await pool.close();
      expect(finished).toEqual([ids]);
      expect(pool.actor.getSnapshot().context.live).toBe(0);
    });

    it('counts the ends of one I/O turn while closing with one peer.finished, though each close reply has a turn of its own', async () => {
      // Sockets that open and answer a close frame each in a callback of its own, as a real
      // socket does (one I/O callback per socket, a microtask checkpoint after each).
      const transport: Transport = {
        name: 'own-turns',
        canPing: true,
        canPause: true,
        canSetHeaders: true,
        canSetTls: true,
        open(_url, _options, listener) {
          let open = false;
          setImmediate(() => {
            open = true;
            listener.onOpen();
          });
          return {
            bufferedAmount: 0,
            get isOpen() {
              return open;
            },
            send: () => 0,
            ping() {},
            close() {
              open = false;
              setImmediate(() => listener.onClose(1000, '', 'local_stop'));
            },
            pause() {},
            resume() {},
            release() {
              open = false;
            }
          };
        }
      };
      const finished: Array<readonly string[]> = [];
      const pool = newPool({
        transport,
        inspect: (inspection) => {
          if (inspection.type !== '@xstate.event') return;
          const event = inspection.event as { type: string; ids?: readonly string[] };
          if (event.type === 'peer.finished') finished.push(event.ids ?? []);
        }
      });
      const events = recordEvents(pool);
      const ids = Array.from({ length: 20 }, (_, i) => pool.connect(`ws://127.0.0.1:1/p${i}`));
      for (const id of ids) await events.waitFor(kindOf('connected', id));
      await pool.close();
      // Twenty close replies in twenty callbacks of one turn: one transition of the pool machine, not twenty.
      expect(finished).toEqual([ids]);
      await events.done;
      expect(events.items.filter((event) => event.kind === 'disconnected')).toHaveLength(ids.length);
      expect(pool.actor.getSnapshot().context.live).toBe(0);
    });
  });

  describe('registration', () => {
    it('counts the peers connected in one turn with one pool.register event, before any of them can end', async () => {
      const registers: Array<readonly string[]> = [];
      const pool = newPool({
        inspect: (inspection) => {
          if (inspection.type !== '@xstate.event') return;
          const event = inspection.event as { type: string; ids?: readonly string[] };
          if (event.type === 'pool.register') registers.push(event.ids ?? []);
        }
      });
      const url = await refusedUrl();
      const ids = Array.from({ length: 5 }, (_, i) => pool.connect(`${url}/p${i}`));
      expect(pool.actor.getSnapshot().context.live).toBe(0);
      await Promise.resolve();
      expect(registers).toEqual([ids]);
      expect(pool.actor.getSnapshot().context.live).toBe(5);
      pool.connect(`${url}/late`);
      await pool.close();
      expect(registers.map((batch) => batch.length)).toEqual([5, 1]);
      expect(pool.actor.getSnapshot().context.live).toBe(0);
    });

    it('a close() in the same turn as connect() counts and ends those peers', async () => {
      const pool = newPool();
      const url = await refusedUrl();
      for (let i = 0; i < 3; i++) pool.connect(`${url}/p${i}`);
      await pool.close();
      expect(pool.actor.getSnapshot().context.live).toBe(0);
      expect(pool.actor.getSnapshot().status).toBe('done');
    });
  });

  describe('custom workers', () => {
    it("a custom worker's events appear in pool.events and on pool.actor", async () => {
      const at = Date.now();
      const pool = newPool({
        workerFactory: (_ctx, id) => stubbornWorker((plugin) => plugin.events.write({ kind: 'connected', id, at }))
      });
      const onActor: string[] = [];
      pool.actor.on('connected', (event) => onActor.push(event.id));
      const events = recordEvents(pool);
      const id = pool.connect('ws://127.0.0.1:9/custom');
      const { event } = await events.waitFor(kindOf('connected', id));
      expect(event).toEqual({ kind: 'connected', id, at });
      // The pool actor re-emits a turn's events at the end of that turn.
      await endOfTurn();
      expect(onActor).toEqual([id]);
    });

    it('a custom worker whose start() rejects does not take the pool down', async () => {
      const srv = await server();
      const echoes: string[] = [];
      srv.wss.on('connection', (socket) => socket.on('message', (data) => echoes.push(String(data))));
      const crashId = `${srv.url}/crash`;
      const factory: WorkerFactory = (ctx, id, logger) => {
        if (id !== crashId) return defaultWorkerFactory(ctx, id, logger);
        const worker = stubbornWorker();
        return { ...worker, start: () => Promise.reject(new Error('worker crashed')) };
      };
      const pool = newPool({ workerFactory: factory });
      const crashed: string[] = [];
      pool.actor.on('peer.crashed', (event) => crashed.push(event.id));
      const events = recordEvents(pool);
      const good = pool.connect(srv.url);
      await events.waitFor(kindOf('connected', good));
      pool.connect(crashId);
      await expect.poll(() => crashed).toEqual([crashId]);
      expect(pool.actor.getSnapshot().status).toBe('active');
      expect(pool.peers()).toEqual([good]);
      pool.send(good, 'after the crash');
      await expect.poll(() => echoes).toEqual(['after the crash']);
      const other = pool.connect(`${srv.url}/other`);
      await events.waitFor(kindOf('connected', other));
      expect(pool.actor.getSnapshot().status).toBe('active');
      await within(2000, pool.close(), 'close()');
    });
  });

  describe('logging', () => {
    it('never logs payloads, URL passwords or Authorization values, and binds module, pool and peer', async () => {
      const { logger, lines } = captureLogger('trace');
      const srv = await server();
      const received: string[] = [];
      srv.wss.on('connection', (socket) => {
        socket.on('message', (data) => received.push(String(data)));
        socket.send('PAYLOAD-XYZ');
      });
      const pool = newPool({ id: 'log-pool', logger });
      const events = recordEvents(pool);
      const inbox = collect(pool.inbox);
      const url = `ws://user:secret@127.0.0.1:${srv.port}/path`;
      const id = pool.connect(url, { headers: { Authorization: 'Bearer TOPSECRET' } });
      await events.waitFor(kindOf('connected', id));
      pool.send(id, 'PAYLOAD-XYZ');
      await expect.poll(() => received).toEqual(['PAYLOAD-XYZ']);
      await expect.poll(() => inbox.items.map((m) => m.data)).toEqual(['PAYLOAD-XYZ']);
      // Provoke a dial failure and a disconnect too, so warn/info lines exist.
      pool.connect(`ws://user:secret@127.0.0.1:${srv.port}/path/two`, {
        headers: { Authorization: 'Bearer TOPSECRET' },
        transport: throwingTransport(`cannot reach ${url}`)
      });
      await events.waitFor(kindOf('dial_failed'));
      pool.remove(id);
      await events.waitFor(kindOf('disconnected', id));
      await pool.close();

      expect(lines.length).toBeGreaterThan(3);
      for (const line of lines) {
        expect(line).not.toContain('secret');
        expect(line).not.toContain('TOPSECRET');
        expect(line).not.toContain('PAYLOAD-XYZ');
        expect(JSON.parse(line)).toMatchObject({ module: 'honeybee', pool: 'log-pool' });
      }
      const parsed = lines.map((line) => JSON.parse(line) as { msg?: string; peer?: string });
      const connected = parsed.find((entry) => entry.msg === 'connected');
      expect(connected?.peer).toBe(`ws://***:***@127.0.0.1:${srv.port}/path`);
      expect(parsed.some((entry) => entry.msg === 'dial failed' && entry.peer?.endsWith('/path/two'))).toBe(true);
    });
  });
});
