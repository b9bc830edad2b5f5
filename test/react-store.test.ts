import { describe, expect, it } from 'vitest';
import { PoolStore } from '../src/react/store.ts';
import { createShardedPool } from '../src/shards/index.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';
import { onConnection } from './helpers/on-connection.ts';

// The store behind honeybee-pool/react's hooks, against real pools (the hooks
// themselves run in Chromium: test/react-hooks-browser.test.ts).

const { server, pool: openPool, defer } = usePoolFixture();

/** Subscribes like useSyncExternalStore does; counts the notifications. */
function listen(store: PoolStore): { readonly calls: number } {
  const seen = { calls: 0 };
  const unsubscribe = store.subscribe(() => seen.calls++);
  defer(async () => unsubscribe());
  return seen;
}

describe('the hooks’ store', () => {
  it('on a Pool with throttle 0: a lifecycle event re-renders, messages alone do not, and an unchanged row keeps its object', async () => {
    const peer = await server();
    const sockets = new Map<string, import('ws').WebSocket>();
    peer.wss.on('connection', (socket, request) => sockets.set(request.url ?? '', socket));
    const pool = openPool({ reconnectDelay: 50 });
    const a = pool.connect(`${peer.url}/a`);
    const b = pool.connect(`${peer.url}/b`);
    const store = new PoolStore(pool, { throttle: 0 });
    const seen = listen(store);
    await expect.poll(() => store.getSnapshot().peers.map((p) => p.state)).toEqual(['connected', 'connected']);

    const before = { snapshot: store.getSnapshot(), calls: seen.calls };
    for (const socket of sockets.values()) socket.send('x');
    await expect.poll(() => pool.stats().totalReceived).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect({ snapshot: store.getSnapshot(), calls: seen.calls }).toEqual(before);

    // b's peer closes: a lifecycle change, re-read at once (with the counters moved meanwhile).
    sockets.get('/b')?.close(1000, 'bye');
    await expect.poll(() => store.getSnapshot().peers.find((p) => p.id === b)?.state).not.toBe('connected');
    const down = store.getSnapshot();
    expect(down.peers.map((p) => p.received)).toEqual([1, 1]);
    await expect.poll(() => store.getSnapshot().peers.find((p) => p.id === b)?.state).toBe('connected');
    // a did not change in between: the same row object, so usePeer(pool, a) does not re-render.
    expect(store.getSnapshot().peers.find((p) => p.id === a)).toBe(down.peers.find((p) => p.id === a));
    expect(store.getSnapshot().peers.find((p) => p.id === b)).not.toBe(down.peers.find((p) => p.id === b));
  });

  it('on a ShardedPool (no actor): polls, and shows the peer connected', async () => {
    const peer = await server();
    onConnection(peer, (socket) => socket.send('hello'));
    const pool = createShardedPool({ shards: 1, statsInterval: 50 });
    defer(() => pool.close());
    const store = new PoolStore(pool, { throttle: 100, poll: 50 });
    const seen = listen(store);
    const id = pool.connect(`${peer.url}/s`);
    await expect.poll(() => store.getSnapshot().peers.find((p) => p.id === id)?.state, { timeout: 10_000 }).toBe('connected');
    await expect.poll(() => store.getSnapshot().peers.find((p) => p.id === id)?.received, { timeout: 10_000 }).toBe(1);
    expect(seen.calls).toBeGreaterThan(0);
  });

  it('refuses a negative throttle with a clear error', () => {
    expect(() => new PoolStore({ stats: () => ({}) as never }, { throttle: -1 })).toThrow('Expected `throttle` to be a number of milliseconds ≥ 0, got -1');
  });
});
