import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardModuleError, ShardProcessError } from '../../src/errors.ts';
import { createClusterClient, createShard, type ClusterClient, type Shard, type ShardOptions } from '../../src/nats/index.ts';
import { defineShard } from '../../src/shards/index.ts';
import { resolveShardModule } from '../../src/shards/shard-module.ts';
import { checkWorkerContract } from '../../src/testkit/index.ts';
import { probeAnsweringPeer } from '../helpers/contract-peers.ts';
import { findNatsServer, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { startSequenceServer, waitUntil, type SequenceServer } from '../helpers/sequence-server.ts';
import probeShard from '../shards/fixtures/probe-shard.ts';
import type { ParsedFrame } from '../shards/fixtures/parse-shard.ts';

const binary = findNatsServer();
if (binary === undefined) console.warn('skipping the NATS shard-module tests: nats-server is not installed (apt-get install nats-server)');

const fixture = (name: string): URL => new URL(`../shards/fixtures/${name}`, import.meta.url);
const FAST = { leaseTtl: 2000, heartbeat: 300 };

describe.skipIf(binary === undefined)('a shard module in a NATS shard', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let peers: SequenceServer;
  let cluster = 0;
  const open: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    [nats, peers] = await Promise.all([startNatsServer(binary as string), startSequenceServer({ paths: 4, intervalMs: 10 })]);
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    for (const item of open.reverse()) await item.close();
    await nc?.close();
    await Promise.all([nats?.dispose(), peers?.close()]);
  });

  /** One shard with `module` and a client of its own cluster, every peer registered. */
  async function start(module: NonNullable<ShardOptions['module']>, extra: Partial<ShardOptions> = {}): Promise<{ shard: Shard; client: ClusterClient }> {
    const name = `mod${++cluster}`;
    const shard = await createShard({ nats: nc, cluster: name, shardId: 's0', ...FAST, module, ...extra });
    open.push(shard);
    const client = await createClusterClient({ nats: nc, cluster: name });
    open.push(client);
    for (const url of peers.urls) await client.connect(url);
    return { shard, client };
  }

  it('runs `process` (the module by URL, as threads load it) on every batch: its values are what the stream carries', async () => {
    const { client } = await start(fixture('parse-shard.ts'));
    const values: ParsedFrame[] = [];
    for await (const batch of client.inbox.batches()) {
      values.push(...(batch as unknown as ParsedFrame[]));
      if (values.length >= 100) break;
    }
    for (const value of values) {
      expect(Object.keys(value).sort()).toEqual(['id', 'seq', 'shard']);
      expect(value.seq % 2).toBe(0);
      expect(value.shard).toBe('s0');
    }
    expect(new Set(values.map((value) => value.id)).size).toBeGreaterThan(1);
  });

  it('a failing `process` (the module as an object): each batch dropped, counted and reported; the shard keeps publishing events', async () => {
    const errors: ShardProcessError[] = [];
    const failing = defineShard({
      process: (batch) => (batch.length > 0 ? [{ id: batch[0]?.id, big: 1n }] : [])
    });
    const { shard, client } = await start(failing, { onProcessError: (error) => errors.push(error) });
    const connected = new Set<string>();
    const events = (async () => {
      for await (const event of client.events) {
        if (event.kind === 'connected') connected.add(event.id);
        if (connected.size === peers.urls.length) break;
      }
    })();
    await events;
    await waitUntil(() => errors.length >= 3, 10_000, 'failed batches');
    expect(errors[0]).toBeInstanceOf(ShardProcessError);
    expect(errors[0]).toMatchObject({ shard: 's0', fate: 'dropped' });
    expect(errors[0]?.reason).toMatch(/cannot be published as JSON/);
    expect(shard.processErrors).toBeGreaterThanOrEqual(errors.length);
  });

  it('runs a custom worker machine (the probe example, as an object) in the shard; the conformance kit passes on the worker the shard builds from it', async () => {
    await start(probeShard, { pool: { pingInterval: 50, keepaliveTimeout: 2000 } });
    const probed = (): number => peers.urls.filter((url) => peers.echoes.get(new URL(url).pathname)?.includes('["PROBE"]')).length;
    await waitUntil(() => probed() === peers.urls.length, 10_000, 'probes from every peer');
    const { workerFactory } = await resolveShardModule(probeShard);
    const results = await checkWorkerContract(workerFactory as NonNullable<typeof workerFactory>, {
      peer: probeAnsweringPeer(),
      connection: { pingInterval: 20, keepaliveTimeout: 1000 }
    });
    expect(results.filter((result) => !result.ok)).toEqual([]);
    expect(results.filter((result) => result.skipped === undefined).length).toBeGreaterThan(5);
  }, 60_000);

  it('refuses a module it cannot use with ShardModuleError, before joining the cluster', async () => {
    await expect(createShard({ nats: nc, cluster: 'bad', ...FAST, module: fixture('not-a-shard.ts') })).rejects.toBeInstanceOf(ShardModuleError);
    await expect(createShard({ nats: nc, cluster: 'bad', ...FAST, module: { process: 42 } as never })).rejects.toThrow(/`process` is not a function/);
  });
});
