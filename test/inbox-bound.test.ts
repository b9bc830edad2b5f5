import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Pool } from '../src/pool.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';
import { onConnection } from './helpers/on-connection.ts';

// `inboxSize` is the bound under the default 'block' policy: many peers
// bursting at once, with nobody reading, never push the inbox past it. What
// their sockets had already read waits in each peer's link and reaches the
// inbox in order once it drains.

const { server, pool: openPool } = usePoolFixture();

/** Σ frames the peers received minus what the inbox took: the frames waiting in links. */
function heldInLinks(pool: Pool): number {
  const stats = pool.stats();
  return stats.peers.reduce((sum, peer) => sum + peer.received, 0) - stats.totalReceived;
}

async function burst(peers: number, frames: number): Promise<void> {
  const peer = await server();
  onConnection(peer, (socket) => {
    for (let i = 0; i < frames; i++) socket.send(String(i));
  });
  const pool = openPool({ inboxSize: 256, pingInterval: 0 });
  const ids = Array.from({ length: peers }, (_, n) => pool.connect(`${peer.url}/p${n}`));

  // Nobody reads: each peer has either had all its frames or paused its socket, and none past 256 is in the inbox.
  const settledPeers = (): number => pool.stats().peers.filter((p) => p.paused || p.received === frames).length;
  await expect.poll(settledPeers, { timeout: 10_000 }).toBe(peers);
  const before = { depth: pool.stats().inboxDepth, held: heldInLinks(pool) };
  // The pool counts what its links hold: the epoch ledger of a NATS shard depends on it.
  expect(pool.stats().inboxHeld).toBe(before.held);
  await delay(100);
  expect({ depth: pool.stats().inboxDepth, held: heldInLinks(pool) }).toEqual(before);
  expect(before.depth).toBe(256);
  console.log(`${peers} peers × ${frames} frames: inbox ${before.depth}, held in links ${before.held}`);

  // Reading drains the inbox and the links behind it; the depth never passes 256 and each peer's order holds.
  const next = new Map(ids.map((id) => [id, 0]));
  let read = 0;
  let deepest = 0;
  for await (const batch of pool.inbox.batches(64)) {
    deepest = Math.max(deepest, pool.stats().inboxDepth);
    for (const message of batch) {
      const expected = next.get(message.id) as number;
      expect(message.data).toBe(String(expected));
      next.set(message.id, expected + 1);
    }
    read += batch.length;
    if (read === peers * frames) break;
  }
  expect(deepest).toBeLessThanOrEqual(256);
  expect([...next.values()].every((n) => n === frames)).toBe(true);
  expect(pool.stats()).toMatchObject({ inboxDepth: 0, totalReceived: peers * frames, inboxDropped: 0 });
  expect(heldInLinks(pool)).toBe(0);
  expect(pool.stats().peers.some((p) => p.paused)).toBe(false);
}

describe('inboxSize under block', () => {
  it('holds with 100 peers bursting tiny frames at once', async () => {
    await burst(100, 500);
  });

  it('holds with 10 peers bursting 1 000 frames each (the 10 010 of the trial)', async () => {
    await burst(10, 1000);
  });
});
