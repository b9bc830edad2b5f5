/**
 * One NATS shard of the verification bench, in its own process (forked by
 * verify.ts, configured by environment like test/nats/shard-process.ts,
 * `{ shard }` on IPC once it runs). It runs the same shard module as the
 * thread shards (verify-shard.mjs): its `process` verifies every message of
 * an inbox batch in this process, and only the verified events (JSON) go on
 * to the stream. Honeybee is loaded from the bench's build
 * (`HONEYBEE_ENTRY`) or the sources.
 */
import { connect } from '@nats-io/transport-node';

type NatsEntry = typeof import('../../src/nats/index.ts');

const entry = process.env.HONEYBEE_ENTRY ?? '';
const { createShard } = (await (entry === '' ? import('../../src/nats/index.ts') : import(entry.replace(/node\.js$/, 'nats/index.js')))) as NatsEntry;

const env = process.env;
const nats = await connect({ servers: env.NATS_URL as string, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const shard = await createShard({
  nats,
  cluster: env.CLUSTER as string,
  shardId: env.SHARD_ID as string,
  leaseTtl: Number(env.LEASE_TTL ?? 2000),
  heartbeat: Number(env.HEARTBEAT ?? 500),
  maxBatch: Number(env.MAX_BATCH ?? 256),
  module: new URL('./verify-shard.mjs', import.meta.url),
  pool: { inboxSize: Number(env.INBOX_SIZE ?? 128) }
});
process.send?.({ shard: shard.id });
process.on(
  'SIGTERM',
  () =>
    void shard
      .close()
      .then(() => nats.close())
      .then(() => process.exit(0))
);
