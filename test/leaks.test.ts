import { setTimeout as delay } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActorRefLike, InspectionEvent } from 'xstate';
import { defaultWorkerFactory } from '../src/default-worker.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { PoolEvent, PoolOptions, Worker, WorkerFactory } from '../src/types.ts';
import { startFlappingServer } from './helpers/hostile-servers.ts';
import { refusedUrl, startHungServer, startServer, type TestServer } from './helpers/servers.ts';
import { startTlsServer } from './helpers/tls-server.ts';

// What a closed pool leaves behind: no socket, timer or server handle, no
// actor still running, and no memory that grows with the number of pools or
// peers it has seen.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** How many active resources of each type the process holds (`TCPSocketWrap`, `Timeout`, …). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The resource types the process holds more of than in `baseline` (the harness's own may come and go). */
function beyond(baseline: Record<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [type, count] of Object.entries(resources())) {
    if (count > (baseline[type] ?? 0)) extra[type] = count - (baseline[type] ?? 0);
  }
  return extra;
}

/**
 * Polls `check` without leaving a timer of its own active while it runs
 * (expect.poll would count itself as a `Timeout`).
 */
async function settle(check: () => boolean, timeout = 3000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check() && Date.now() < deadline) await delay(20);
}

function fullGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('after close()', () => {
  it('leaves no socket, timer or server handle behind, and every actor it created has stopped', async () => {
    gc();
    const baseline = resources();

    const servers: TestServer[] = await Promise.all([startServer(), startServer()]);
    const flapping = await startFlappingServer(40);
    const hung = await startHungServer();
    const tls = await startTlsServer();
    const refused = await refusedUrl();
    const closeServers = (): Promise<unknown> => Promise.all([...servers, flapping].map((s) => s.close()).concat(hung.close(), tls.close()));
    cleanups.push(closeServers);
    for (const server of servers) {
      server.wss.on('connection', (socket) => {
        socket.send('hello');
        socket.on('message', (data) => socket.send(data));
      });
    }
    await settle(() => false, 50);
    const withServers = resources();

    const actors = new Set<ActorRefLike>();
    const inspect = (event: InspectionEvent): void => {
      if (event.type === '@xstate.actor') actors.add(event.actorRef);
    };
    const options: PoolOptions = {
      inspect,
      reconnectDelay: 20,
      minUptime: 0,
      pingInterval: 30,
      keepaliveTimeout: 1000,
      closeTimeout: 200,
      handshakeTimeout: 5000,
      retry: { initialDelay: 5000, maxDelay: 5000 }
    };
    const pool = createPool(options);
    const connected = new Set<string>();
    pool.actor.on('connected', (event) => connected.add(event.id));
    const inbox = (async () => {
      let n = 0;
      for await (const _ of pool.inbox) n++;
      return n;
    })();
    const events = (async () => {
      const seen: PoolEvent[] = [];
      for await (const event of pool.events) seen.push(event);
      return seen;
    })();
    const live = servers.flatMap((server) => [pool.connect(`${server.url}/a`), pool.connect(`${server.url}/b`)]);
    live.push(pool.connect(tls.url, { tls: { ca: tls.ca } }));
    pool.connect(flapping.url); // connects and drops, over and over
    pool.connect(hung.url); // stays dialing
    pool.connect(refused); // fails, then waits 5 s in backoff
    pool.connect(`${tls.url}/untrusted`); // TLS refused, then backoff
    const removed = pool.connect(`${servers[0]?.url}/removed`);
    await settle(() => live.every((id) => connected.has(id)) && connected.has(removed));
    expect(live.every((id) => connected.has(id))).toBe(true);
    pool.remove(removed);
    for (const id of live) pool.send(id, 'ping');
    await delay(100);
    expect(
      pool
        .stats()
        .peers.map((p) => p.state)
        .sort()
    ).toEqual(expect.arrayContaining(['backoff', 'connected', 'dialing']));

    await pool.close();

    expect(await inbox).toBeGreaterThan(0);
    const seen = await events;
    expect(seen.filter((e) => e.kind === 'connected').length).toBe(seen.filter((e) => e.kind === 'disconnected').length);
    expect(pool.actor.getSnapshot().status).toBe('done');
    // The pool and the ten peers' workers (sockets belong to the links; the servers check them below): all ended.
    expect(actors.size).toBe(11);
    const running = [...actors].filter((actor) => actor.getSnapshot().status === 'active').map((actor) => (actor as { id?: string }).id);
    expect(running).toEqual([]);

    // The pool's side of every connection is closed: the servers see no client left.
    await settle(() => servers.every((s) => s.sockets.size === 0) && flapping.sockets.size === 0 && hung.sockets.size === 0 && tls.sockets.size === 0);
    expect(servers.map((s) => s.sockets.size)).toEqual([0, 0]);
    expect(hung.sockets.size).toBe(0);
    expect(tls.sockets.size).toBe(0);
    // With the servers still listening, the process holds what it held before the pool existed.
    await settle(() => Object.keys(beyond(withServers)).length === 0);
    expect(beyond(withServers)).toEqual({});

    await closeServers();
    cleanups.length = 0;
    await settle(() => Object.keys(beyond(baseline)).length === 0);
    expect(beyond(baseline)).toEqual({});
  });
});

describe('memory', () => {
  it('100 pools, each connecting one peer, exchanging a message and closing, leave the heap where it was', async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    server.wss.on('connection', (socket) => socket.send('welcome'));
    const pools: Array<WeakRef<Pool>> = [];

    const cycle = async (): Promise<void> => {
      const pool = createPool({ closeTimeout: 200 });
      pools.push(new WeakRef(pool));
      const id = pool.connect(`${server.url}/cycle`);
      const iterator = pool.inbox[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value).toMatchObject({ id, data: 'welcome' });
      pool.send(id, 'bye');
      await pool.close();
      expect((await iterator.next()).done).toBe(true);
    };

    for (let i = 0; i < 30; i++) await cycle(); // warm up code paths and caches
    const before = fullGc();
    for (let i = 0; i < 100; i++) await cycle();
    await settle(() => server.sockets.size === 0);
    const after = fullGc();

    // Every pool is collectable once closed: nothing global holds on to it.
    expect(pools.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(1);
    // A leak of even 20 KB per pool would show as 2 MB here; warm-up noise is a few hundred KB.
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
  });

  it('a long-lived pool forgets the workers of 100 removed peers', async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    const workers: Array<WeakRef<Worker>> = [];
    const workerFactory: WorkerFactory = (ctx, id, logger) => {
      const worker = defaultWorkerFactory(ctx, id, logger);
      workers.push(new WeakRef(worker));
      return worker;
    };
    const pool = createPool({ workerFactory, closeTimeout: 200 });
    cleanups.push(() => pool.close());
    const events = pool.events[Symbol.asyncIterator]();
    const next = async (kind: PoolEvent['kind']): Promise<void> => {
      for (;;) {
        const { value } = await events.next();
        if (value?.kind === kind) return;
      }
    };

    const keep = pool.connect(`${server.url}/kept`);
    await next('connected');
    for (let i = 0; i < 100; i++) {
      const id = pool.connect(`${server.url}/peer-${i % 3}`);
      await next('connected');
      pool.remove(id);
      await next('disconnected');
    }
    await settle(() => pool.actor.getSnapshot().context.live === 1);
    expect(pool.actor.getSnapshot().context.live).toBe(1);
    fullGc();

    const alive = workers.filter((ref) => ref.deref() !== undefined).length;
    // Only the kept peer's worker is still reachable.
    expect(alive).toBe(1);
    expect(pool.peers()).toEqual([keep]);
  });
});
