/**
 * Where a cluster keeps things on NATS, and how peer ids become KV keys.
 * Everything is derived from the cluster name, so several clusters can share
 * one server.
 */
import { InvalidOptionError } from '../errors.ts';

/** The NATS names of one cluster. */
export interface ClusterNames {
  /** KV bucket of live shards (TTL = lease). */
  readonly members: string;
  /** KV bucket of the desired peers (no TTL), written by clients. */
  readonly peers: string;
  /** KV bucket of per-peer claims (no TTL); a claim's revision is its epoch. */
  readonly claims: string;
  /** JetStream stream holding inbox batches and events. */
  readonly stream: string;
  inboxSubject(shard: string): string;
  eventsSubject(shard: string): string;
  sendSubject(shard: string): string;
  readonly inboxFilter: string;
  readonly eventsFilter: string;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a cluster or shard name: it becomes part of bucket, stream and subject names. */
export function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidOptionError(option, 'a name of 1 to 64 letters, digits, "_" or "-"', value);
  }
  return value;
}

/** The names of cluster `cluster` (already checked with {@link checkName}). */
export function clusterNames(cluster: string): ClusterNames {
  return {
    members: `hb_${cluster}_members`,
    peers: `hb_${cluster}_peers`,
    claims: `hb_${cluster}_claims`,
    stream: `HB_${cluster}`,
    inboxSubject: (shard) => `hb.${cluster}.inbox.${shard}`,
    eventsSubject: (shard) => `hb.${cluster}.events.${shard}`,
    sendSubject: (shard) => `hb.${cluster}.send.${shard}`,
    inboxFilter: `hb.${cluster}.inbox.>`,
    eventsFilter: `hb.${cluster}.events.>`
  };
}

/** A peer id as a KV key: base64url, which only uses characters KV keys allow. */
export function peerKey(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** The peer id of a KV key made by {@link peerKey}. */
export function peerIdOf(key: string): string {
  return Buffer.from(key, 'base64url').toString('utf8');
}
