/**
 * `honeybee-pool/nats`: shards of one pool across processes and machines,
 * coordinated through a NATS server (JetStream KV leases, a JetStream inbox
 * stream, request/reply sends). Node only; needs the optional peer
 * dependencies `@nats-io/transport-node`, `@nats-io/jetstream`, `@nats-io/kv`.
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { createShard, createClusterClient } from 'honeybee-pool/nats';
 * const nats = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const shard = await createShard({ nats, cluster: 'relays' });
 * ```
 */
export { createShard } from './shard.ts';
export type { Shard } from './shard.ts';
export type { ShardOptions } from './shard-options.ts';
export { createClusterClient } from './cluster-client.ts';
export type { ClusterClient, ClusterClientOptions, ClusterInbox } from './cluster-client.ts';
export type { ClusterDisconnectCause, ClusterEvent, ClusterMessage } from './envelope.ts';
export { NoOwnerError, OwnerUnavailableError } from '../errors.ts';
