/**
 * What every shard-in-its-own-process script of the tests and benches shares:
 * a NATS connection to `NATS_URL`, a shard of cluster `CLUSTER` with id
 * `SHARD_ID` (`LEASE_TTL` / `HEARTBEAT`, when set, over `options`), and a graceful leave
 * on SIGTERM that exits 0. `create` is passed in, so a bench can run the
 * compiled package rather than the sources.
 */
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { createShard, Shard, ShardOptions } from '../../src/nats/index.ts';

export async function runShardProcess(
  create: typeof createShard,
  natsOptions: NodeConnectionOptions,
  options: Omit<ShardOptions, 'nats' | 'cluster' | 'shardId'>,
  onLeave: () => void = () => {}
): Promise<Shard> {
  const env = process.env;
  const nats = await connect({ servers: env.NATS_URL as string, maxReconnectAttempts: -1, ...natsOptions });
  const shard = await create({
    nats,
    cluster: env.CLUSTER as string,
    shardId: env.SHARD_ID as string,
    ...options,
    ...(env.LEASE_TTL === undefined ? {} : { leaseTtl: Number(env.LEASE_TTL) }),
    ...(env.HEARTBEAT === undefined ? {} : { heartbeat: Number(env.HEARTBEAT) })
  });
  process.on('SIGTERM', () => {
    onLeave();
    void shard
      .close()
      .then(() => nats.close())
      .then(() => process.exit(0));
  });
  return shard;
}
