import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rendezvousOwner } from '../../src/shards/rendezvous.ts';
import { findNatsServer, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { startSequenceServer, waitUntil, type SequenceServer } from '../helpers/sequence-server.ts';
import {
  eventViolations,
  handoverGaps,
  sleep,
  startLocalShard,
  startProcessShard,
  startRecorder,
  type LocalShard,
  type ProcessShard,
  type Recorder
} from './cluster-harness.ts';

const binary = findNatsServer();
const PEERS = 20;
const LEASE = { leaseTtl: 4000, heartbeat: 1500 };
const CLUSTER = 'crash';

describe.skipIf(binary === undefined)('NATS shards: a shard killed with kill -9, then restarted with the same id', () => {
  let nats: TestNatsServer;
  let server: SequenceServer;
  let recorder: Recorder;
  let local: LocalShard;
  let victim: ProcessShard;
  const owner = (url: string): string | undefined => recorder.client.owner(url)?.shard;
  const settled = (live: string[]): boolean =>
    server.open === PEERS &&
    server.urls.every((url) => owner(url) === rendezvousOwner(url, live)) &&
    local.shard.held().size + (live.includes('p1') ? victim.held : 0) === PEERS;

  beforeAll(async () => {
    nats = await startNatsServer(binary as string);
    server = await startSequenceServer({ paths: PEERS, intervalMs: 50 });
    victim = startProcessShard(nats.url, CLUSTER, 'p1', LEASE);
    local = await startLocalShard(nats.url, CLUSTER, 's1', LEASE);
    recorder = await startRecorder(nats.url, CLUSTER);
    await victim.started;
    await sleep(LEASE.heartbeat * 2);
    for (const url of server.urls) await recorder.client.connect(url);
    await waitUntil(() => settled(['p1', 's1']), 15_000, 'every peer connected on its owner');
  }, 30_000);

  afterAll(async () => {
    victim?.child.kill('SIGKILL');
    await victim?.exited;
    await local?.stop().catch(() => {});
    await recorder?.close();
    await server?.close();
    await nats?.dispose();
  });

  it('reports the end of each of its connections (owner_lost, 1006) before the new owner’s connected', async () => {
    const orphans = server.urls.filter((url) => owner(url) === 'p1');
    const epochs = new Map(orphans.map((url) => [url, recorder.client.owner(url)?.epoch ?? 0]));
    expect(orphans.length).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await waitUntil(() => settled(['s1']), LEASE.leaseTtl + LEASE.heartbeat + 5000, 'its peers re-owned and redialed');
    await waitUntil(
      () => orphans.every((url) => recorder.events.some((event) => event.id === url && event.kind === 'connected' && event.shard === 's1')),
      3000,
      'the new owner’s connected events'
    );
    for (const url of orphans) {
      const mine = recorder.events.filter((event) => event.id === url);
      const lost = mine.findIndex((event) => event.kind === 'disconnected' && event.epoch === epochs.get(url));
      const taken = mine.findIndex((event) => event.kind === 'connected' && event.shard === 's1');
      expect(lost, `${url}: the end of its connection on p1`).toBeGreaterThanOrEqual(0);
      expect(lost).toBeLessThan(taken);
      expect(mine[lost]).toMatchObject({ cause: 'owner_lost', code: 1006, shard: 'p1' });
      expect(mine[taken]?.epoch).toBeGreaterThan(epochs.get(url) ?? 0);
    }
    expect(eventViolations(recorder.events)).toEqual([]);
    expect(server.overlaps).toBe(0);
  }, 20_000);

  it('takes its share back on restart with a gap of about one dial, not a heartbeat', async () => {
    const share = server.urls.filter((url) => rendezvousOwner(url, ['p1', 's1']) === 'p1').map((url) => new URL(url).pathname);
    const since = Date.now();
    victim = startProcessShard(nats.url, CLUSTER, 'p1', LEASE);
    await waitUntil(() => settled(['p1', 's1']), LEASE.heartbeat * 4 + 5000, 'p1 to take its share back');
    const gaps = handoverGaps(server, share, since);
    console.log(
      `nats: a restarted shard took ${gaps.length} peers back; gap median ${gaps[gaps.length >> 1]} ms, longest ${gaps.at(-1)} ms (heartbeat ${LEASE.heartbeat})`
    );
    expect(gaps.length).toBe(share.length);
    expect(gaps.at(-1) ?? Infinity).toBeLessThan(LEASE.heartbeat / 2);
    expect(eventViolations(recorder.events)).toEqual([]);
    expect(server.overlaps).toBe(0);
  }, 20_000);

  it('ends a killed holder’s connection in the events, and clears its claim, when its peer is removed before anyone takes it over', async () => {
    const orphan = server.urls.find((url) => owner(url) === 'p1') as string;
    const epoch = recorder.client.owner(orphan)?.epoch ?? 0;
    victim.child.kill('SIGKILL');
    await victim.exited;
    // Removed while the dead holder's claim still stands: nobody will claim it again, so no new owner reports the loss.
    await recorder.client.remove(orphan);
    await waitUntil(
      () => recorder.events.some((event) => event.id === orphan && event.kind === 'disconnected' && event.epoch === epoch),
      LEASE.leaseTtl + LEASE.heartbeat * 2 + 3000,
      'the end of the removed peer’s connection on the dead shard'
    );
    const end = recorder.events.findLast((event) => event.id === orphan);
    expect(end).toMatchObject({ kind: 'disconnected', cause: 'owner_lost', code: 1006, shard: 'p1', epoch });
    await waitUntil(() => recorder.client.owner(orphan) === undefined, 3000, 'its claim cleared');
    expect(eventViolations(recorder.events)).toEqual([]);
  }, 20_000);
});
