import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidOptionError } from '../errors.ts';
import type { ClusterNames } from './names.ts';

/** The KV buckets every member of a cluster uses. */
export interface ClusterBuckets {
  readonly peers: KV;
  readonly claims: KV;
}

/** Opens the bucket `name`, creating it with `ttl` (ms) when it does not exist yet. */
async function openBucket(kvm: Kvm, jsm: JetStreamManager, name: string, ttl?: number): Promise<KV> {
  // Whoever comes first creates a bucket; the others open it as it is.
  const exists = await jsm.streams.info(`KV_${name}`).then(
    () => true,
    () => false
  );
  if (exists) return kvm.open(name);
  return kvm.create(name, ttl === undefined ? { history: 1 } : { ttl, history: 1 }).catch(() => kvm.open(name));
}

/**
 * Opens (creating when missing) the cluster's desired-peers and claims
 * buckets and its stream. Shards and clients both call this.
 */
export async function openCluster(nc: NatsConnection, names: ClusterNames, streamMaxBytes: number): Promise<ClusterBuckets> {
  const kvm = new Kvm(nc);
  const jsm = await jetstreamManager(nc);
  const [peers, claims] = await Promise.all([openBucket(kvm, jsm, names.peers), openBucket(kvm, jsm, names.claims)]);
  const config = {
    name: names.stream,
    subjects: [names.inboxFilter, names.eventsFilter],
    // Work queue: a batch stays until a consumer acks it; 'new' makes a full stream refuse
    // publishes (the shard retries, its inbox fills, its sockets pause) instead of dropping the oldest.
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    storage: StorageType.File,
    max_bytes: streamMaxBytes
  };
  try {
    await jsm.streams.info(names.stream);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch (error) {
      // Another member created it between our two calls.
      await jsm.streams.info(names.stream).catch(() => Promise.reject(error));
    }
  }
  return { peers, claims };
}

/**
 * Opens the members bucket, whose TTL is the lease: a shard that stops
 * renewing its key disappears from it `leaseTtl` ms later. Every shard of a
 * cluster must use the same lease.
 *
 * @throws InvalidOptionError when the bucket exists with another lease.
 */
export async function openMembers(nc: NatsConnection, names: ClusterNames, leaseTtl: number): Promise<KV> {
  const members = await openBucket(new Kvm(nc), await jetstreamManager(nc), names.members, leaseTtl);
  const { ttl } = await members.status();
  if (ttl !== leaseTtl) throw new InvalidOptionError('leaseTtl', `the cluster's lease, ${ttl} ms (every shard must use the same)`, leaseTtl);
  return members;
}

/** One key's latest value in a {@link BucketMirror}. */
export interface MirroredEntry {
  readonly value: string;
  readonly revision: number;
  /** When this process learnt of this revision (local clock, epoch ms). */
  readonly seenAt: number;
}

/**
 * A live copy of a KV bucket, kept by a watcher: puts and deletes arrive as
 * they happen. On nats-server < 2.11 a key that expires by TTL sends no
 * event, so a member's liveness is judged by `seenAt` (its renewals arrive
 * every heartbeat) and confirmed on the server before taking over its claims.
 */
export class BucketMirror {
  readonly entries = new Map<string, MirroredEntry>();
  readonly #kv: KV;
  readonly #onChange: (key: string) => void;
  readonly #confirmations = new Map<string, { at: number; answer: Promise<string | undefined> }>();
  #stopped = false;
  #stop: (() => void) | undefined;
  #initial: Promise<void>;
  #markInitial: () => void = () => {};

  constructor(kv: KV, onChange: (key: string) => void) {
    this.#kv = kv;
    this.#onChange = onChange;
    this.#initial = new Promise((resolve) => (this.#markInitial = resolve));
    void this.#run();
  }

  /** Resolves once the bucket's existing keys have been read. */
  initialized(): Promise<void> {
    return this.#initial;
  }

  /** Records what this process itself just wrote, before the watcher echoes it. */
  note(key: string, entry: Omit<MirroredEntry, 'seenAt'> | undefined): void {
    const known = this.entries.get(key);
    if (entry === undefined) this.entries.delete(key);
    else if (known === undefined || entry.revision > known.revision) this.entries.set(key, { ...entry, seenAt: Date.now() });
  }

  /**
   * Asks the server for `key`'s value now (a read, not the mirror): `undefined`
   * when it is gone. Answers are shared for 100 ms, so many claims of one dead
   * holder cost one read.
   */
  current(key: string): Promise<string | undefined> {
    const cached = this.#confirmations.get(key);
    if (cached !== undefined && Date.now() - cached.at < 100) return cached.answer;
    const answer = this.#kv.get(key).then((entry) => (entry !== null && entry.operation === 'PUT' ? entry.string() : undefined));
    this.#confirmations.set(key, { at: Date.now(), answer });
    return answer;
  }

  stop(): void {
    this.#stopped = true;
    this.#stop?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        const since = Date.now();
        const seen = new Set<string>();
        let swept = false;
        const sweep = (): void => {
          if (swept) return;
          swept = true;
          this.#sweep(seen, since);
          this.#markInitial();
        };
        const watch = await this.#kv.watch();
        this.#stop = () => watch.stop();
        // An empty bucket sends nothing: count it as read at once.
        if ((await this.#kv.status()).values === 0) sweep();
        for await (const entry of watch) {
          seen.add(entry.key);
          this.#apply(entry);
          if (entry.delta === 0) sweep();
        }
      } catch {
        // The connection dropped or the consumer went away: watch again.
      }
      if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * After a (re)watch has replayed the bucket: a key we knew that it did not
   * replay is gone (purged, expired, or deleted while we were not watching),
   * unless we learnt of it after the watch began.
   */
  #sweep(seen: ReadonlySet<string>, since: number): void {
    for (const [key, entry] of [...this.entries]) {
      if (seen.has(key) || entry.seenAt >= since) continue;
      this.entries.delete(key);
      this.#onChange(key);
    }
  }

  #apply(entry: KvEntry): void {
    const known = this.entries.get(entry.key);
    if (known !== undefined && entry.revision <= known.revision) return;
    if (entry.operation === 'PUT') this.entries.set(entry.key, { value: entry.string(), revision: entry.revision, seenAt: Date.now() });
    else this.entries.delete(entry.key);
    this.#onChange(entry.key);
  }
}
