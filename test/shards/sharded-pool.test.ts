import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionUnavailableError, InvalidOptionError, PeerExistsError, PeerNotFoundError, PoolClosedError } from '../../src/errors.ts';
import { createShardedPool, type ShardedPool } from '../../src/shards/index.ts';
import { SequenceChecker, startSequenceServer, waitUntil, type SequenceServer } from '../helpers/sequence-server.ts';

const PEERS = 600;
const SHARDS = 3;

/** Reads a sharded pool's inbox and events into a checker and a live-connection map. */
function watch(pool: ShardedPool): { checker: SequenceChecker; connected: Map<string, number>; done: Promise<void> } {
  const checker = new SequenceChecker();
  const connected = new Map<string, number>();
  const inbox = (async () => {
    for await (const batch of pool.inbox.batches(1024)) for (const { id, data } of batch) checker.take(id, data);
  })();
  const events = (async () => {
    for await (const event of pool.events) {
      if (event.kind === 'connected') connected.set(event.id, event.at);
      else if (event.kind === 'disconnected') connected.delete(event.id);
    }
  })();
  return { checker, connected, done: Promise.all([inbox, events]).then(() => {}) };
}

describe('createShardedPool', () => {
  let server: SequenceServer;
  let pool: ShardedPool;
  let seen: ReturnType<typeof watch>;

  beforeAll(async () => {
    server = await startSequenceServer({ paths: PEERS, intervalMs: 200 });
    pool = createShardedPool({ shards: SHARDS, id: 'sharded', reconnectDelay: 100, retry: { initialDelay: 50, maxDelay: 500 } });
    seen = watch(pool);
    for (const url of server.urls) pool.connect(url);
    await pool.started();
  });

  afterAll(async () => {
    await pool.close();
    await server.close();
  });

  it('connects every peer once, spread over the threads within ±20 %', async () => {
    await waitUntil(() => seen.connected.size === PEERS, 15_000, 'every peer connected');
    expect(server.open).toBe(PEERS);
    const perShard = pool.stats().shards.map((shard) => shard.peerCount);
    expect(perShard.reduce((a, b) => a + b)).toBe(PEERS);
    for (const count of perShard) {
      expect(count).toBeGreaterThanOrEqual((PEERS / SHARDS) * 0.8);
      expect(count).toBeLessThanOrEqual((PEERS / SHARDS) * 1.2);
    }
  });

  it('routes every send to the owning thread, which sends it on that peer’s socket', async () => {
    const ids = pool.peers().filter((_, i) => i % 10 === 0);
    for (const id of ids) pool.send(id, `hello ${id}`);
    await waitUntil(() => seen.checker.echoes.length >= ids.length, 5000, 'every echo');
    for (const { id, text } of seen.checker.echoes) expect(text).toBe(`hello ${id}`);
    expect(new Set(seen.checker.echoes.map((echo) => echo.id)).size).toBe(ids.length);
  });

  it('offers ready, broadcast, reconnect and remove like Pool', async () => {
    const [first, second, third] = pool.peers() as [string, string, string];
    await pool.ready(first, { timeout: 1000 });
    const before = seen.checker.echoes.length;
    const result = pool.broadcast('to all', (id) => id === second || id === third);
    expect(result.sent.sort()).toEqual([second, third].sort());
    await waitUntil(() => seen.checker.echoes.length === before + 2, 5000, 'the broadcast echoes');
    const path = new URL(second).pathname;
    const connections = server.connections.get(path) ?? 0;
    pool.reconnect(second);
    await waitUntil(() => server.connections.get(path) === connections + 1 && seen.connected.has(second), 5000, 'the reconnect');
    await pool.remove(third);
    // remove() resolved after the final disconnected crossed over, and the id is free again.
    expect(seen.connected.has(third)).toBe(false);
    expect(pool.peers()).not.toContain(third);
    pool.connect(third);
    await pool.ready(third, { timeout: 5000 });
    expect(server.overlaps).toBe(0);
  });

  it('refuses what Pool refuses: a duplicate, an unknown peer, a function option', () => {
    expect(() => pool.connect(`${server.urls[0]}/`)).toThrow(PeerExistsError);
    expect(() => pool.send('ws://127.0.0.1:1/nobody', 'x')).toThrow(PeerNotFoundError);
    expect(() => pool.remove('ws://127.0.0.1:1/nobody')).toThrow(PeerNotFoundError);
    expect(() => createShardedPool({ shards: 0 })).toThrow(InvalidOptionError);
    expect(() => createShardedPool({ shards: 2, workerFactory: () => ({}) } as never)).toThrow(/workerFactory/);
  });

  it('respawns a killed thread and redials its peers, never two connections per peer, no gap inside a connection', async () => {
    const victim = 't1';
    const owned = pool.peers().filter((id) => pool.shardOf(id) === victim);
    const before = new Map(owned.map((id) => [id, seen.connected.get(id)]));
    const connectionsBefore = new Map(server.connections);
    const killedAt = Date.now();
    await pool.thread(victim)?.terminate();
    // A send to one of its peers now fails here, at once, with the typed error.
    expect(() => pool.send(owned[0] as string, 'x')).toThrow(ConnectionUnavailableError);
    await waitUntil(() => owned.every((id) => (seen.connected.get(id) ?? 0) > (before.get(id) ?? Infinity)), 10_000, 'every peer of the killed thread reconnected');
    const reownMs = Date.now() - killedAt;
    console.log(`threads: ${owned.length} peers of a killed thread reconnected in ${reownMs} ms`);
    expect(pool.stats().shards.find((shard) => shard.shard === victim)?.restarts).toBe(1);
    expect(server.open).toBe(PEERS);
    expect(server.overlaps).toBe(0);
    // Peers of the other threads kept their one connection.
    for (const id of pool.peers()) {
      const path = new URL(id).pathname;
      if (!owned.includes(id)) expect(server.connections.get(path)).toBe(connectionsBefore.get(path));
    }
    expect(seen.checker.gaps).toBe(0);
    expect(seen.checker.misrouted).toBe(0);
  });

  it('closes every thread and ends both streams', async () => {
    await waitUntil(() => seen.checker.frames > PEERS * 3, 10_000, 'traffic');
    await pool.close();
    await seen.done;
    // The threads saw every socket close; the server (in this busy process) may take a turn longer.
    await waitUntil(() => server.open === 0, 5000, 'the server to see every socket closed');
    expect(seen.connected.size).toBe(0);
    expect(seen.checker.gaps).toBe(0);
    expect(() => pool.connect(server.urls[0] as string)).toThrow(PoolClosedError);
  });
});

describe('createShardedPool with a consumer that stops reading', () => {
  it('pauses the threads’ sockets (block), keeps memory bounded, and loses nothing', async () => {
    const server = await startSequenceServer({ paths: 4, intervalMs: 1 });
    const pool = createShardedPool({ shards: 2, inboxSize: 32, maxBatch: 64, statsInterval: 50 });
    for (const url of server.urls) pool.connect(url);
    const connected = new Set<string>();
    const events = (async () => {
      for await (const event of pool.events) if (event.kind === 'connected') connected.add(event.id);
    })();
    await waitUntil(() => connected.size === 4, 10_000, 'every peer connected');
    const depth = (): number => pool.stats().inboxDepth;
    await waitUntil(() => pool.stats().peers.every((peer) => peer.paused), 5000, 'every socket paused');
    const first = depth();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const second = depth();
    // Nothing is read while paused: the depth holds still instead of growing with the firehose.
    expect(second).toBeLessThanOrEqual(first + 64);
    expect(pool.stats().inboxDropped).toBe(0);
    const checker = new SequenceChecker();
    const reading = (async () => {
      for await (const batch of pool.inbox.batches()) for (const { id, data } of batch) checker.take(id, data);
    })();
    await waitUntil(() => checker.frames > second + 2000, 10_000, 'reading to resume');
    await pool.close();
    await Promise.all([reading, events]);
    await server.close();
    expect(checker.gaps).toBe(0);
    expect(checker.misrouted).toBe(0);
  });
});
