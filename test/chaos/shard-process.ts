/**
 * One shard of the fault-injection suite, in its own process: connects to
 * NATS through its own fault proxy (`NATS_URL`) with the client options the
 * docs show (`maxReconnectAttempts: -1`, the default 2 s reconnect wait), and
 * tells the peer server who dials through the handshake headers of its
 * pool (`x-shard`, `x-incarnation` = this pid), a public pool option.
 * Reports `{ ready }` over IPC once it has joined the buckets, then what it
 * holds; SIGTERM leaves gracefully and exits 0.
 */
import { connect } from '@nats-io/transport-node';
import { createShard } from '../../src/nats/index.ts';

const env = process.env;
const nats = await connect({ servers: env.NATS_URL as string, maxReconnectAttempts: -1, waitOnFirstConnect: true });
const shard = await createShard({
  nats,
  cluster: env.CLUSTER as string,
  shardId: env.SHARD_ID as string,
  leaseTtl: Number(env.LEASE_TTL),
  heartbeat: Number(env.HEARTBEAT),
  pool: {
    reconnectDelay: 100,
    retry: { initialDelay: 50, maxDelay: 500 },
    headers: { 'x-shard': env.SHARD_ID as string, 'x-incarnation': String(process.pid) }
  }
});
process.send?.({ ready: true, pid: process.pid });
const timer = setInterval(() => process.send?.({ held: shard.held().size }), 250);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void shard
    .close()
    .then(() => nats.close())
    .then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(1));
