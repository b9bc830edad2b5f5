import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { InvalidOptionError, type ShardProcessError } from '../errors.ts';
import type { ShardModule } from '../shards/shard-module.ts';
import type { PoolOptions } from '../types.ts';
import { checkName } from './names.ts';

/** What `createShard(options)` accepts. */
export interface ShardOptions {
  /** A connected `@nats-io/transport-node` connection; the shard never opens or closes it. */
  nats: NatsConnection;
  /** The cluster name: shards and clients with the same name work together. */
  cluster: string;
  /** This shard's id, unique in the cluster. @default a random id */
  shardId?: string;
  /** Lease time, ms: a shard that stops renewing loses its peers after this long. @default 10000 */
  leaseTtl?: number;
  /** How often the lease is renewed and membership polled, ms; below `leaseTtl / 2`. @default 3000 */
  heartbeat?: number;
  /** Options of the shard's local pool (`inboxOverflow` defaults to `'block'`, which keeps the inbox lossless; `'drop-oldest'` is refused). */
  pool?: Omit<PoolOptions, 'signal'>;
  /** Most messages in one stream message. @default 256 */
  maxBatch?: number;
  /** Most bytes (about) in one stream message; keep it under the server's max_payload (1 MiB). @default 524288 */
  maxBatchBytes?: number;
  /** Size limit of the cluster's stream when this shard creates it, bytes. @default 268435456 */
  streamMaxBytes?: number;
  /** The shard's own logger. @default silent */
  logger?: Logger;
  /**
   * A shard module (`defineShard` from `honeybee-pool/shards`): by URL or absolute path, as a
   * sharded pool's threads take it, or the module object itself. Its worker (`workerFactory`
   * or `machine`) and `transport` run this shard's pool; its `process` runs on every inbox
   * batch before it is published, and what it returns (JSON values) is what the stream carries.
   */
  module?: URL | string | ShardModule<unknown>;
  /** Called for each batch the module's `process` failed on (also logged). */
  onProcessError?: (error: ShardProcessError) => void;
}

/** {@link ShardOptions} with defaults applied. */
export interface CheckedShardOptions {
  nats: NatsConnection;
  cluster: string;
  shardId: string;
  leaseTtl: number;
  heartbeat: number;
  pool: Omit<PoolOptions, 'signal'>;
  maxBatch: number;
  maxBatchBytes: number;
  streamMaxBytes: number;
  logger: Logger;
  module: URL | string | ShardModule<unknown> | undefined;
  onProcessError: ((error: ShardProcessError) => void) | undefined;
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidOptionError(name, 'a positive integer', value);
  return value;
}

/** Validates shard options; every problem is an `InvalidOptionError` naming the option. */
export function checkShardOptions(options: ShardOptions): CheckedShardOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object', options);
  const nats = options.nats as unknown as { request?: unknown } | undefined;
  if (typeof nats?.request !== 'function') throw new InvalidOptionError('nats', 'a NatsConnection from @nats-io/transport-node', options.nats);
  const leaseTtl = positive('leaseTtl', options.leaseTtl, 10_000);
  const heartbeat = positive('heartbeat', options.heartbeat, Math.min(3000, Math.floor(leaseTtl / 3)));
  if (heartbeat * 2 >= leaseTtl) throw new InvalidOptionError('heartbeat', `below half of leaseTtl (${leaseTtl} ms)`, heartbeat);
  // Frames are stamped with their epoch by their place in the inbox; evicting the oldest would shift every place.
  if (options.pool?.inboxOverflow === 'drop-oldest') {
    throw new InvalidOptionError('pool.inboxOverflow', "'block' or 'drop-newest' on a shard (drop-oldest would mislabel epochs)", 'drop-oldest');
  }
  if (options.onProcessError !== undefined && typeof options.onProcessError !== 'function') {
    throw new InvalidOptionError('onProcessError', 'a function of the ShardProcessError', options.onProcessError);
  }
  return {
    nats: options.nats,
    cluster: checkName('cluster', options.cluster),
    shardId: options.shardId === undefined ? randomBytes(6).toString('hex') : checkName('shardId', options.shardId),
    leaseTtl,
    heartbeat,
    pool: { inboxOverflow: 'block', ...options.pool },
    maxBatch: positive('maxBatch', options.maxBatch, 256),
    maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes, 512 * 1024),
    streamMaxBytes: positive('streamMaxBytes', options.streamMaxBytes, 256 * 1024 * 1024),
    logger: options.logger ?? pino({ level: 'silent' }),
    module: options.module,
    onProcessError: options.onProcessError
  };
}
