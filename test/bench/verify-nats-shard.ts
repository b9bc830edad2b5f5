/**
 * One NATS shard of the verification bench, in its own process (forked by
 * verify.ts, configured by environment like test/nats/shard-process.ts,
 * `{ shard }` on IPC once it runs). It runs the same shard module as the
 * thread shards (verify-shard.mjs): its `process` verifies every message of
 * an inbox batch in this process, and only the verified events (JSON) go on
 * to the stream. Honeybee is loaded from the bench's build
 * (`HONEYBEE_ENTRY`) or the sources.
 */
import { runShardProcess } from '../helpers/shard-main.ts';

type NatsEntry = typeof import('../../src/nats/index.ts');

const entry = process.env.HONEYBEE_ENTRY ?? '';
const { createShard } = (await (entry === '' ? import('../../src/nats/index.ts') : import(entry.replace(/node\.js$/, 'nats/index.js')))) as NatsEntry;

const shard = await runShardProcess(
  createShard,
  { reconnectTimeWait: 100 },
  {
    leaseTtl: 2000,
    heartbeat: 500,
    maxBatch: Number(process.env.MAX_BATCH ?? 256),
    module: new URL('./verify-shard.mjs', import.meta.url),
    pool: { inboxSize: Number(process.env.INBOX_SIZE ?? 128) }
  }
);
process.send?.({ shard: shard.id });
