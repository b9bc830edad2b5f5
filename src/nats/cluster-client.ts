import { AckPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  ConnectionUnavailableError,
  HoneybeeError,
  InvalidOptionError,
  InvalidPayloadError,
  NoOwnerError,
  OwnerUnavailableError,
  PeerNotFoundError,
  type ErrorCode
} from '../errors.ts';
import { normalizeUrl, redactUrl } from '../normalize-url.ts';
import { resolveConnectOptions, resolvePoolOptions } from '../options.ts';
import type { PoolShape } from '../pool-api.ts';
import type { ConnectOptions } from '../types.ts';
import { wsTransport } from '../transports/ws.ts';
import { pino } from 'pino';
import { BucketMirror, openCluster, type ClusterBuckets } from './buckets.ts';
import { decodeEvents, decodeInbox, decodeJson, encodeJson, type ClusterEvent, type ClusterMessage, type SendReply } from './envelope.ts';
import { checkName, clusterNames, peerKey, type ClusterNames } from './names.ts';

/** What `createClusterClient(options)` accepts. */
export interface ClusterClientOptions {
  /** A connected `@nats-io/transport-node` connection; the client never closes it. */
  nats: NatsConnection;
  /** The cluster name the shards use. */
  cluster: string;
  /** Durable consumer name: processes with the same name share the inbox (each batch goes to one of them). @default 'honeybee' */
  consumer?: string;
  /** How long a routed send waits for the owner's answer, ms. @default 2000 */
  requestTimeout?: number;
}

/** The cluster inbox: batches as shards published them, acked once the next batch is asked for. */
export interface ClusterInbox extends AsyncIterable<ClusterMessage> {
  batches(max?: number): AsyncIterable<ClusterMessage[]>;
}

/**
 * A client of a shard cluster: registers peers, routes sends, reads the inbox
 * and events. It shares `PoolShape` with `Pool` and `ShardedPool`; unlike them
 * its registry is a NATS bucket, so `connect` and `send` are async, and it has
 * no `broadcast`, `ready`, `reconnect` or stats (each shard has its own).
 */
export interface ClusterClient extends PoolShape<ClusterMessage, ClusterEvent> {
  /** Registers a peer (the desired set); a shard claims and dials it. Resolves with its id. */
  connect(url: string, options?: ConnectOptions): Promise<string>;
  /** Removes a peer from the desired set; its owner stops it and releases it. */
  remove(id: string): Promise<void>;
  /** Sends through the shard that owns the peer; typed errors when there is none or it does not answer. */
  send(id: string, data: string | Uint8Array): Promise<void>;
  /** The shard that holds the peer and its epoch, as last seen. */
  owner(id: string): { shard: string; epoch: number } | undefined;
  /** The registered peer ids. */
  peers(): string[];
  readonly inbox: ClusterInbox;
  readonly events: AsyncIterable<ClusterEvent>;
  /** Stops reading (un-acked batches are redelivered to the next reader); the NATS connection stays open. */
  close(): Promise<void>;
}

class NatsClusterClient implements ClusterClient {
  readonly #nc: NatsConnection;
  readonly #names: ClusterNames;
  readonly #buckets: ClusterBuckets;
  readonly #peers: BucketMirror;
  readonly #claims: BucketMirror;
  readonly #consumer: string;
  readonly #timeout: number;
  readonly #reading = new Set<ConsumerMessages>();
  readonly #base = resolvePoolOptions({}, { transport: () => wsTransport, logger: () => pino({ level: 'silent' }) }).connection;

  constructor(nc: NatsConnection, cluster: string, buckets: ClusterBuckets, consumer: string, timeout: number) {
    this.#nc = nc;
    this.#names = clusterNames(cluster);
    this.#buckets = buckets;
    this.#consumer = consumer;
    this.#timeout = timeout;
    this.#peers = new BucketMirror(buckets.peers, () => {});
    this.#claims = new BucketMirror(buckets.claims, () => {});
  }

  async initialized(): Promise<void> {
    await Promise.all([this.#peers.initialized(), this.#claims.initialized()]);
  }

  async connect(url: string, options?: ConnectOptions): Promise<string> {
    const id = normalizeUrl(url);
    if (options !== undefined) {
      if (options.transport !== undefined) throw new InvalidOptionError('transport', 'unset for a cluster peer (a transport cannot travel to a shard)', 'a transport');
      resolveConnectOptions(this.#base, options);
    }
    const revision = await this.#buckets.peers.put(peerKey(id), encodeJson(options === undefined ? { url: id } : { url: id, options }));
    this.#peers.note(peerKey(id), { value: JSON.stringify({ url: id, options }), revision });
    return id;
  }

  async remove(id: string): Promise<void> {
    const key = peerKey(normalizeUrl(id));
    if (!this.#peers.entries.has(key)) throw new PeerNotFoundError(redactUrl(id));
    await this.#buckets.peers.delete(key);
    this.#peers.note(key, undefined);
  }

  owner(id: string): { shard: string; epoch: number } | undefined {
    const claim = this.#claims.entries.get(peerKey(normalizeUrl(id)));
    return claim === undefined ? undefined : { shard: claim.value, epoch: claim.revision };
  }

  peers(): string[] {
    return [...this.#peers.entries.values()].map((entry) => (JSON.parse(entry.value) as { url: string }).url);
  }

  async send(id: string, data: string | Uint8Array): Promise<void> {
    const key = normalizeUrl(id);
    const label = redactUrl(key);
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new InvalidPayloadError(label, data);
    const owner = this.owner(key);
    if (owner === undefined) throw new NoOwnerError(label, this.#peers.entries.has(peerKey(key)) ? 'no shard has claimed it yet' : 'it is not registered');
    const request = typeof data === 'string' ? { id: key, data, binary: false } : { id: key, data: Buffer.from(data).toString('base64'), binary: true };
    let reply: SendReply;
    try {
      const msg = await this.#nc.request(this.#names.sendSubject(owner.shard), encodeJson(request), { timeout: this.#timeout });
      reply = decodeJson<SendReply>(msg.data);
    } catch (error) {
      throw new OwnerUnavailableError(label, owner.shard, error);
    }
    if (reply.ok) return;
    if (reply.code === 'HONEYBEE_ERR_NO_OWNER') throw new NoOwnerError(label, `shard ${owner.shard} let it go`);
    if (reply.code === 'HONEYBEE_ERR_CONNECTION_UNAVAILABLE') throw new ConnectionUnavailableError(label, `not connected on shard ${owner.shard}`);
    throw new HoneybeeError(reply.code as ErrorCode, reply.message);
  }

  get inbox(): ClusterInbox {
    const read = (max: number): AsyncIterable<ClusterMessage[]> => this.#read('inbox', this.#names.inboxFilter, decodeInbox, max);
    return {
      batches: (max = Number.POSITIVE_INFINITY) => read(max),
      [Symbol.asyncIterator]: async function* () {
        for await (const batch of read(Number.POSITIVE_INFINITY)) yield* batch;
      }
    };
  }

  get events(): AsyncIterable<ClusterEvent> {
    const read = (): AsyncIterable<ClusterEvent[]> => this.#read('events', this.#names.eventsFilter, decodeEvents, Number.POSITIVE_INFINITY);
    return {
      [Symbol.asyncIterator]: async function* () {
        for await (const batch of read()) yield* batch;
      }
    };
  }

  async close(): Promise<void> {
    for (const messages of this.#reading) messages.stop();
    this.#peers.stop();
    this.#claims.stop();
  }

  /** Reads a durable consumer; a stream message is acked when the reader asks for what follows it. */
  async *#read<T>(kind: string, filter: string, decode: (bytes: Uint8Array) => T[], max: number): AsyncGenerator<T[]> {
    const name = `${this.#consumer}_${kind}`;
    const jsm = await jetstreamManager(this.#nc);
    await jsm.consumers.add(this.#names.stream, { durable_name: name, ack_policy: AckPolicy.Explicit, filter_subject: filter });
    const consumer = await jetstream(this.#nc).consumers.get(this.#names.stream, name);
    const messages = await consumer.consume({ max_messages: 64 });
    this.#reading.add(messages);
    try {
      for await (const message of messages) {
        const rows = decode(message.data);
        for (let i = 0; i < rows.length; i += max) yield rows.slice(i, i + max);
        message.ack();
      }
    } finally {
      this.#reading.delete(messages);
    }
  }
}

/**
 * Connects to a shard cluster as a client: the side that says which peers
 * to keep, sends to them, and reads what they send.
 *
 * @throws InvalidOptionError on a bad option.
 * @example
 * ```ts
 * const cluster = await createClusterClient({ nats, cluster: 'relays' });
 * const id = await cluster.connect('wss://relay.example.com');
 * for await (const batch of cluster.inbox.batches(512)) handle(batch);
 * ```
 */
export async function createClusterClient(options: ClusterClientOptions): Promise<ClusterClient> {
  const nats = options.nats as unknown as { request?: unknown } | undefined;
  if (typeof nats?.request !== 'function') throw new InvalidOptionError('nats', 'a NatsConnection from @nats-io/transport-node', options.nats);
  const cluster = checkName('cluster', options.cluster);
  const consumer = checkName('consumer', options.consumer ?? 'honeybee');
  const timeout = options.requestTimeout ?? 2000;
  if (!Number.isInteger(timeout) || timeout < 1) throw new InvalidOptionError('requestTimeout', 'a positive integer', timeout);
  const buckets = await openCluster(options.nats, clusterNames(cluster), 256 * 1024 * 1024);
  const client = new NatsClusterClient(options.nats, cluster, buckets, consumer, timeout);
  await client.initialized();
  return client;
}
