/**
 * `honeybee-pool/shards`: one pool spread over worker threads (Node).
 *
 * @example
 * ```ts
 * import { createShardedPool } from 'honeybee-pool/shards';
 * const pool = createShardedPool({ shards: 2 });
 * ```
 */
export { createShardedPool } from './sharded-pool.ts';
export { defineShard } from './shard-module.ts';
export type { ShardModule, ShardContext, ShardOutput, FailedBatch } from './shard-module.ts';
export { ShardModuleError, ShardProcessError } from '../errors.ts';
export type { FailedBatchFate } from '../errors.ts';
export type { ShardedPool, ShardedPoolStats, ShardStats } from './sharded-pool-types.ts';
export type { ShardedPoolOptions } from './sharded-options.ts';
export type { ThreadConnectOptions } from './protocol.ts';
export { rendezvousOwner, rendezvousAssign, rendezvousWeight } from './rendezvous.ts';
