/**
 * One shards measure, in its own process (see shards.ts):
 * - `rate <pool|threads|nats> <shards> <port> <peers> <seconds> [natsUrl cluster]`:
 *   messages/s taken from the inbox, end to end, while `peers` firehose
 *   connections stream without pause; counted over `seconds` after a 1 s warm-up.
 * - `reown-threads <port> <peers>`: a 2-thread pool of idle peers; one thread is
 *   terminated; ms until each of its peers is connected again.
 * - `reown-nats <port> <peers> <natsUrl> <cluster> <victimShard> <victimPid>`: ms from
 *   kill -9 of the victim shard process until each of its peers is connected on another.
 * Prints one JSON line with the result.
 */
import { emit, urlsFor } from './fleet.ts';

type ShardsEntry = typeof import('../../src/shards/index.ts');
type NatsEntry = typeof import('../../src/nats/index.ts');
type NodeEntry = typeof import('../../src/node.ts');

const entry = process.env.HONEYBEE_ENTRY ?? '';
const load = <T>(source: string, built: string): Promise<T> => (entry === '' ? import(source) : import(entry.replace(/node\.js$/, built))) as Promise<T>;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time of the whole process (every thread), µs. */
const cpuNow = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
let cpuPerMessageNs = NaN;

/**
 * Counts what `batches` yields; returns messages/s over `seconds` after a 1 s
 * warm-up, and leaves the process's CPU per message over the same window in
 * `cpuPerMessageNs` (all of its threads: the pool's, or the main thread's and
 * the shard threads').
 */
async function rate(batches: AsyncIterable<readonly unknown[]>, seconds: number): Promise<number> {
  let count = 0;
  let done = false;
  const reading = (async () => {
    for await (const batch of batches) {
      count += batch.length;
      if (done) break;
    }
  })();
  await sleep(1000);
  const start = count;
  const startedAt = performance.now();
  const cpuAt = cpuNow();
  await sleep(seconds * 1000);
  const result = ((count - start) * 1000) / (performance.now() - startedAt);
  cpuPerMessageNs = ((cpuNow() - cpuAt) * 1000) / Math.max(1, count - start);
  done = true;
  void reading;
  return result;
}

async function natsClient(url: string, cluster: string): Promise<{ client: Awaited<ReturnType<NatsEntry['createClusterClient']>>; close(): Promise<void> }> {
  const { connect } = await import('@nats-io/transport-node');
  const { createClusterClient } = await load<NatsEntry>('../../src/nats/index.ts', 'nats/index.js');
  const nc = await connect({ servers: url });
  const client = await createClusterClient({ nats: nc, cluster, requestTimeout: 1000 });
  return { client, close: async () => (await client.close(), await nc.close()) };
}

const [mode = 'rate', ...rest] = process.argv.slice(2);
if (mode === 'rate') {
  const [kind = 'pool', shardsText = '1', port = '0', peersText = '8', secondsText = '3', natsUrl = '', cluster = ''] = rest;
  const urls = urlsFor(Number(port), Number(peersText), 'n=inf');
  const seconds = Number(secondsText);
  let messagesPerSecond: number;
  if (kind === 'pool') {
    const { createPool } = await load<NodeEntry>('../../src/node.ts', 'node.js');
    const pool = createPool({ inboxSize: 4096 });
    for (const url of urls) pool.connect(url);
    messagesPerSecond = await rate(pool.inbox.batches(1024), seconds);
    await pool.close();
  } else if (kind === 'threads') {
    const { createShardedPool } = await load<ShardsEntry>('../../src/shards/index.ts', 'shards/index.js');
    const pool = createShardedPool({ shards: Number(shardsText), inboxSize: 4096 });
    await pool.started();
    for (const url of urls) pool.connect(url);
    messagesPerSecond = await rate(pool.inbox.batches(1024), seconds);
    await pool.close();
  } else {
    const { client, close } = await natsClient(natsUrl, cluster);
    for (const url of urls) await client.connect(url);
    messagesPerSecond = await rate(client.inbox.batches(), seconds);
    await close();
  }
  emit({ messagesPerSecond, cpuPerMessageNs });
  process.exit(0);
} else if (mode === 'reown-threads') {
  const [port = '0', peersText = '200'] = rest;
  const { createShardedPool } = await load<ShardsEntry>('../../src/shards/index.ts', 'shards/index.js');
  const pool = createShardedPool({ shards: 2, reconnectDelay: 0 });
  const ids = urlsFor(Number(port), Number(peersText)).map((url) => pool.connect(url));
  await Promise.all(ids.map((id) => pool.ready(id)));
  const orphans = ids.filter((id) => pool.shardOf(id) === 't0');
  const killedAt = performance.now();
  await pool.thread('t0')?.terminate();
  await sleep(0);
  await Promise.all(orphans.map((id) => pool.ready(id)));
  emit({ reownMs: performance.now() - killedAt, orphans: orphans.length });
  await pool.close();
  process.exit(0);
} else {
  const [port = '0', peersText = '300', natsUrl = '', cluster = '', victim = '', pidText = '0'] = rest;
  const { client, close } = await natsClient(natsUrl, cluster);
  const ids: string[] = [];
  for (const url of urlsFor(Number(port), Number(peersText))) ids.push(await client.connect(url));
  const connectedEpoch = new Map<string, number>();
  void (async () => {
    for await (const event of client.events) if (event.kind === 'connected') connectedEpoch.set(event.id, Math.max(event.epoch, connectedEpoch.get(event.id) ?? 0));
  })();
  const connectedNow = (id: string): boolean => connectedEpoch.get(id) === client.owner(id)?.epoch;
  while (!ids.every(connectedNow)) await sleep(20);
  const orphans = ids.filter((id) => client.owner(id)?.shard === victim);
  const before = new Map(orphans.map((id) => [id, client.owner(id)?.epoch ?? 0]));
  const killedAt = performance.now();
  process.kill(Number(pidText), 'SIGKILL');
  while (!orphans.every((id) => (client.owner(id)?.epoch ?? 0) > (before.get(id) ?? 0) && connectedNow(id))) await sleep(10);
  emit({ reownMs: performance.now() - killedAt, orphans: orphans.length });
  await close();
  process.exit(0);
}
