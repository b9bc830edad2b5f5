/**
 * One shard of the fault-injection suite, in its own process: connects to
 * NATS through its own fault proxy (`NATS_URL`) with the client options the
 * docs show (`maxReconnectAttempts: -1`, the default 2 s reconnect wait), and
 * tells the peer server who dials through the handshake headers of its
 * pool (`x-shard`, `x-incarnation` = this pid), a public pool option.
 * Reports `{ ready }` over IPC once it has joined the buckets, then what it
 * holds; SIGTERM leaves gracefully and exits 0.
 */
import { createShard } from '../../src/nats/index.ts';
import { runShardProcess } from '../helpers/shard-main.ts';

const shard = await runShardProcess(
  createShard,
  { waitOnFirstConnect: true },
  {
    pool: {
      reconnectDelay: 100,
      retry: { initialDelay: 50, maxDelay: 500 },
      headers: { 'x-shard': process.env.SHARD_ID as string, 'x-incarnation': String(process.pid) }
    }
  },
  () => clearInterval(timer)
);
process.send?.({ ready: true, pid: process.pid });
const timer = setInterval(() => process.send?.({ held: shard.held().size }), 250);
process.on('disconnect', () => process.exit(1));
