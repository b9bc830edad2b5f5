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
export type { ShardedPool, ShardedPoolStats, ShardStats } from './sharded-pool-types.ts';
export type { ShardedPoolOptions } from './sharded-options.ts';
export type { ThreadConnectOptions } from './protocol.ts';
export { rendezvousOwner, rendezvousAssign, rendezvousWeight } from './rendezvous.ts';
