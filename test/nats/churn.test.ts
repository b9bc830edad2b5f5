import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Shard } from '../../src/nats/index.ts';
import { findNatsServer, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { startSequenceServer, waitUntil, type SequenceServer } from '../helpers/sequence-server.ts';
import { eventViolations, orderViolations, sleep, startLocalShard, startRecorder, type LocalShard, type Recorder } from './cluster-harness.ts';

const binary = findNatsServer();
const LEASE = { leaseTtl: 2000, heartbeat: 500 };
const ROUNDS = 5;
const PER_ROUND = 20;

type Records = { records(): { ledger: number; closedHere: number } };
const recordsOf = (shard: Shard): { ledger: number; closedHere: number } => (shard as unknown as Records).records();

describe.skipIf(binary === undefined)('NATS shards under peer churn: what a shard keeps per peer id', () => {
  let nats: TestNatsServer;
  let server: SequenceServer;
  let recorder: Recorder;
  const shards: LocalShard[] = [];
  const held = (): number => shards.reduce((sum, local) => sum + local.shard.held().size, 0);

  beforeAll(async () => {
    nats = await startNatsServer(binary as string);
    server = await startSequenceServer({ paths: 1, intervalMs: 20 });
    for (const id of ['s1', 's2']) shards.push(await startLocalShard(nats.url, 'churn', id, LEASE));
    recorder = await startRecorder(nats.url, 'churn');
    await sleep(LEASE.heartbeat * 3);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(shards.map((local) => local.stop().catch(() => {})));
    await recorder?.close();
    await server?.close();
    await nats?.dispose();
  });

  it(`forgets the ${ROUNDS * PER_ROUND} peer ids it held once they are removed, while every frame keeps its epoch`, { timeout: 60_000 }, async () => {
    const base = server.urls[0]!.replace(/\/p0$/, '');
    for (let round = 0; round < ROUNDS; round++) {
      const urls = Array.from({ length: PER_ROUND }, (_, i) => `${base}/r${round}-${i}`);
      for (const url of urls) await recorder.client.connect(url);
      // Every peer connected and sending: frames of each id are in flight when it is removed.
      await waitUntil(() => held() === PER_ROUND && urls.every((url) => recorder.messages.some((m) => m.id === url)), 10_000, `round ${round} connected`);
      for (const url of urls) await recorder.client.remove(url);
      await waitUntil(() => held() === 0, 10_000, `round ${round} removed`);
    }
    // A ledger entry goes once the exporter has taken the peer's frames, a closed connection's once its claim is gone.
    await waitUntil(
      () => shards.every((local) => recordsOf(local.shard).ledger === 0 && recordsOf(local.shard).closedHere === 0),
      10_000,
      'per-peer records forgotten'
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}: ${shards.map((local) => `${local.id} ${JSON.stringify(recordsOf(local.shard))}`).join(', ')}`);
    });
    // Each removed peer ended its one connection in the events, with the epoch it was claimed under.
    expect(eventViolations(recorder.events)).toEqual([]);
    const ends = recorder.events.filter((event) => event.kind === 'disconnected');
    expect(new Set(ends.map((event) => event.id)).size).toBe(ROUNDS * PER_ROUND);
    // Every frame carries the epoch of its peer's one claim (a ledger entry dropped too early would stamp 0).
    const claimed = new Map(recorder.events.filter((event) => event.kind === 'connected').map((event) => [event.id, event.epoch]));
    const misstamped = recorder.messages.filter((message) => message.epoch !== claimed.get(message.id));
    expect(misstamped.slice(0, 3)).toEqual([]);
    expect(orderViolations(recorder.messages)).toEqual([]);
  });
});
