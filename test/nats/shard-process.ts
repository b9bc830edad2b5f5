/**
 * One shard in its own process, for the cluster tests and the bench: started
 * with `fork(…, { execArgv: ['--import', 'tsx'] })`, configured by
 * environment, reporting over IPC. SIGTERM leaves gracefully.
 */
import { connect } from '@nats-io/transport-node';
import { createShard } from '../../src/nats/index.ts';

const env = process.env;
const nats = await connect({ servers: env.NATS_URL as string, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const shard = await createShard({
  nats,
  cluster: env.CLUSTER as string,
  shardId: env.SHARD_ID as string,
  leaseTtl: Number(env.LEASE_TTL ?? 2000),
  heartbeat: Number(env.HEARTBEAT ?? 500),
  pool: { reconnectDelay: 100, retry: { initialDelay: 50, maxDelay: 500 }, inboxSize: Number(env.INBOX_SIZE ?? 256) }
});
const report = (): void => {
  process.send?.({ shard: shard.id, held: shard.held().size });
};
report();
const timer = setInterval(report, 100);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void shard
    .close()
    .then(() => nats.close())
    .then(() => process.exit(0));
});
