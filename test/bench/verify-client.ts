/**
 * One run of the verification bench (see verify.ts), in its own process:
 * `peers` firehose connections stream signed Nostr events without pause and
 * every one is parsed and verified (`verifyEvent`), either in the consumer
 * (`pool`), or in the shard module's `process` of the thread shards
 * (`threads`) or of the NATS shards (`nats`; see verify-nats-shard.ts), the
 * verified events crossing to the consumer. Counts the
 * verified events the consumer takes over `seconds` after a 1 s warm-up.
 *
 * usage: tsx verify-client.ts <pool|threads|nats> <shards> <port> <peers> <seconds> [natsUrl cluster]
 * Prints `{ verifiedPerSecond, invalid, taken }`.
 */
import { emit, urlsFor } from './fleet.ts';
import { verifyMessage } from './signed-events.ts';

type ShardsEntry = typeof import('../../src/shards/index.ts');
type NatsEntry = typeof import('../../src/nats/index.ts');
type NodeEntry = typeof import('../../src/node.ts');

const entry = process.env.HONEYBEE_ENTRY ?? '';
const load = <T>(source: string, built: string): Promise<T> => (entry === '' ? import(source) : import(entry.replace(/node\.js$/, built))) as Promise<T>;
/** The shard module: `process` verifies in the shard. */
export const SHARD_MODULE = new URL('./verify-shard.mjs', import.meta.url);
/** Small batches: each message costs ≈ 2 ms, and a batch is the unit that arrives. */
const BATCH = 32;
const WARMUP_MS = 1000;
/** A short inbox: reading a socket costs far less than verifying its messages, so 128 keeps every shard busy. */
const INBOX = 128;

/**
 * Reads `batches`, where `take` returns how many of a batch verified, and
 * returns verified messages/s between the first batch after the warm-up
 * and the last one in the window (batches arrive whole, so the count is
 * taken at arrivals, not at timer ticks).
 */
async function rate<T>(batches: AsyncIterable<T[]>, take: (batch: T[]) => number, seconds: number): Promise<{ perSecond: number; taken: number }> {
  // The clock starts at the first batch: a NATS shard claims its peers a heartbeat after it joins.
  let startAt = Number.POSITIVE_INFINITY;
  let first: { at: number; count: number } | undefined;
  let last: { at: number; count: number } | undefined;
  let count = 0;
  for await (const batch of batches) {
    count += take(batch);
    const at = performance.now();
    if (startAt === Number.POSITIVE_INFINITY) startAt = at + WARMUP_MS;
    if (at < startAt) continue;
    if (first === undefined) first = { at, count };
    else last = { at, count };
    if (last !== undefined && last.at - first.at >= seconds * 1000) break;
  }
  if (first === undefined || last === undefined) throw new Error('too few batches arrived to measure a rate');
  return { perSecond: ((last.count - first.count) * 1000) / (last.at - first.at), taken: count };
}

/** Counts what a shard's `process` sent (thread or NATS): verified events. A raw message means `process` never ran there. */
function verifiedIn(batch: readonly unknown[]): number {
  for (const item of batch) {
    if (typeof (item as { sig?: unknown }).sig !== 'string')
      throw new Error(`a shard sent ${JSON.stringify(item).slice(0, 120)}, not a verified event: its process did not run`);
  }
  return batch.length;
}

const [kind = 'pool', shardsText = '1', port = '0', peersText = '16', secondsText = '3', natsUrl = '', cluster = ''] = process.argv.slice(2);
const urls = urlsFor(Number(port), Number(peersText), 'n=inf');
const seconds = Number(secondsText);
let invalid = 0;
let result: { perSecond: number; taken: number };
if (kind === 'pool') {
  const { createPool } = await load<NodeEntry>('../../src/node.ts', 'node.js');
  const pool = createPool({ inboxSize: INBOX });
  for (const url of urls) pool.connect(url);
  result = await rate(
    pool.inbox.batches(BATCH),
    (batch) => {
      let verified = 0;
      for (const message of batch) {
        if (verifyMessage(message.data) === undefined) invalid++;
        else verified++;
      }
      return verified;
    },
    seconds
  );
  await pool.close();
} else if (kind === 'threads') {
  const { createShardedPool } = await load<ShardsEntry>('../../src/shards/index.ts', 'shards/index.js');
  const pool = createShardedPool({ shards: Number(shardsText), inboxSize: INBOX, maxBatch: BATCH, module: SHARD_MODULE });
  await pool.started();
  for (const url of urls) pool.connect(url);
  result = await rate(pool.inbox.batches(1024), verifiedIn, seconds);
  // No close(): a closing thread still runs `process` on every frame its sockets take in until
  // their close handshakes end (behind megabytes of queued frames: seconds of verifying).
  // Only the rate is measured here; process.exit below ends the threads.
} else {
  const { connect } = await import('@nats-io/transport-node');
  const { createClusterClient } = await load<NatsEntry>('../../src/nats/index.ts', 'nats/index.js');
  const nc = await connect({ servers: natsUrl });
  const client = await createClusterClient({ nats: nc, cluster, requestTimeout: 1000 });
  for (const url of urls) await client.connect(url);
  result = await rate(client.inbox.batches() as AsyncIterable<unknown[]>, verifiedIn, seconds);
  await client.close();
  await nc.close();
}
emit({ verifiedPerSecond: result.perSecond, invalid, taken: result.taken });
process.exit(0);
