import { jetstream } from '@nats-io/jetstream';
import type { Msg, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { HoneybeeError } from '../errors.ts';
import { createPool } from '../node.ts';
import type { Pool } from '../pool.ts';
import { rendezvousOwner } from '../shards/rendezvous.ts';
import type { ConnectOptions } from '../types.ts';
import { BucketMirror, openCluster, openMembers, type ClusterBuckets } from './buckets.ts';
import type { KV } from '@nats-io/kv';
import { decodeJson, encodeJson, type SendReply, type SendRequest } from './envelope.ts';
import { exportEvents, exportInbox, type EpochStamp } from './exporter.ts';
import { clusterNames, peerIdOf, peerKey, type ClusterNames } from './names.ts';
import { ReliablePublisher } from './publisher.ts';
import { checkShardOptions, type CheckedShardOptions, type ShardOptions } from './shard-options.ts';

/** A running shard: a local pool that owns its share of the cluster's peers. */
export interface Shard {
  /** This shard's id in the cluster. */
  readonly id: string;
  /** The local pool (stats, actor, inspector all work on it); do not connect or remove peers on it directly. */
  readonly pool: Pool;
  /** The peers this shard holds right now, with their epochs. */
  held(): Map<string, number>;
  /**
   * Leaves the cluster gracefully: each peer is stopped, its final
   * `disconnected` published, then its claim released so another shard takes
   * it at once; then the local pool closes. The NATS connection stays open.
   */
  close(): Promise<void>;
}

/** A desired peer as a client registered it. */
interface Desired {
  readonly url: string;
  readonly options?: ConnectOptions;
}

/** What a shard writes under its membership key. */
interface MemberValue {
  readonly leaving: boolean;
}

class NatsShard implements Shard {
  readonly id: string;
  readonly pool: Pool;
  readonly #o: CheckedShardOptions;
  readonly #names: ClusterNames;
  readonly #log: Logger;
  readonly #buckets: ClusterBuckets & { readonly members: KV };
  readonly #members: BucketMirror;
  readonly #peers: BucketMirror;
  readonly #claims: BucketMirror;
  readonly #held = new Map<string, number>();
  readonly #busy = new Set<string>();
  readonly #stamps = new Map<string, EpochStamp>();
  readonly #publisher: ReliablePublisher;
  readonly #exported: Promise<unknown>;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #sendSub: Subscription;
  #joined = false;
  #leaving = false;
  #lastRenewal = 0;
  #renewing = false;
  #reconcileQueued = false;
  #expiryAt = 0;
  #expiryTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: CheckedShardOptions, buckets: ClusterBuckets & { readonly members: KV }) {
    this.#o = o;
    this.id = o.shardId;
    this.#names = clusterNames(o.cluster);
    this.#log = o.logger.child({ module: 'honeybee-nats', shard: o.shardId });
    this.#buckets = buckets;
    this.pool = createPool({ ...o.pool, id: o.pool.id ?? `${o.cluster}/${o.shardId}` });
    const changed = (): void => this.#reconcileSoon();
    this.#members = new BucketMirror(buckets.members, changed);
    this.#peers = new BucketMirror(buckets.peers, changed);
    this.#claims = new BucketMirror(buckets.claims, changed);
    this.#publisher = new ReliablePublisher(jetstream(o.nats), `${o.shardId}.${Date.now()}`, (error) =>
      this.#log.warn({ err: error }, 'publish failed; retrying')
    );
    const limits = { maxBatch: o.maxBatch, maxBatchBytes: o.maxBatchBytes };
    this.#exported = Promise.all([
      exportInbox(this.pool, this.id, this.#names.inboxSubject(this.id), this.#publisher, this.#stamps, limits),
      exportEvents(this.pool, this.id, this.#names.eventsSubject(this.id), this.#publisher, this.#stamps, limits)
    ]);
    this.#sendSub = o.nats.subscribe(this.#names.sendSubject(this.id), {
      callback: (error, msg) => {
        if (error === null) this.#onSend(msg);
      }
    });
  }

  /** Renews at once, then every heartbeat; joins (starts claiming) one heartbeat after the first renewal. */
  start(): void {
    this.#renew();
    this.#timers.push(setInterval(() => this.#renew(), this.#o.heartbeat));
    // Expiry sends no watch event on nats-server < 2.11: look again each heartbeat.
    this.#timers.push(setInterval(() => this.#reconcileSoon(), this.#o.heartbeat));
    // A fresh shard waits one heartbeat, so it sees the other members before claiming anything.
    this.#timers.push(
      setTimeout(() => {
        this.#joined = true;
        this.#reconcileSoon();
      }, this.#o.heartbeat)
    );
  }

  held(): Map<string, number> {
    return new Map(this.#held);
  }

  close(): Promise<void> {
    this.#closing ??= this.#leave();
    return this.#closing;
  }

  // Renewal never waits on anything else: its own timer, one put in flight at most.
  #renew(): void {
    if (this.#renewing) return this.#fenceIfLapsed();
    this.#renewing = true;
    const sentAt = Date.now();
    const value: MemberValue = { leaving: this.#leaving };
    this.#buckets.members
      .put(this.id, encodeJson(value))
      .then((revision) => {
        this.#lastRenewal = sentAt;
        this.#members.note(this.id, { value: JSON.stringify(value), revision });
      })
      .catch((error: unknown) => this.#log.warn({ err: error }, 'lease renewal failed'))
      .finally(() => {
        this.#renewing = false;
        this.#fenceIfLapsed();
      });
  }

  /**
   * The server expires our key `leaseTtl` after the last renewal it stored,
   * which is no earlier than when we sent it. If renewals keep failing, drop
   * every peer a heartbeat before that, so no other shard can dial a peer we
   * still hold (a partition makes this shard let go first).
   */
  #fenceIfLapsed(): void {
    if (this.#held.size === 0 || Date.now() - this.#lastRenewal < this.#o.leaseTtl - this.#o.heartbeat) return;
    this.#log.warn({ peers: this.#held.size }, 'lease lapsed: dropping every peer');
    for (const id of [...this.#held.keys()]) void this.#drop(id, false);
  }

  #reconcileSoon(): void {
    if (this.#reconcileQueued) return;
    this.#reconcileQueued = true;
    setImmediate(() => {
      this.#reconcileQueued = false;
      this.#reconcile();
    });
  }

  /** Whether a member renewed within the lease, as far as this process has seen. */
  /** Looks again the moment the next silent member's lease would run out, not up to a heartbeat later. */
  #wakeAtNextExpiry(): void {
    let next = Infinity;
    for (const [shard, entry] of this.#members.entries) if (shard !== this.id) next = Math.min(next, entry.seenAt + this.#o.leaseTtl);
    if (next === Infinity || next === this.#expiryAt) return;
    clearTimeout(this.#expiryTimer);
    this.#expiryAt = next;
    this.#expiryTimer = setTimeout(() => this.#reconcileSoon(), Math.max(0, next - Date.now()) + 1);
  }

  #seenAlive(shard: string): boolean {
    const entry = this.#members.entries.get(shard);
    return entry !== undefined && Date.now() - entry.seenAt < this.#o.leaseTtl;
  }

  /** Members that take new peers: seen alive and not leaving (this shard counts once it has joined). */
  #eligible(): string[] {
    const eligible: string[] = [];
    for (const [shard, entry] of this.#members.entries) {
      if (shard === this.id || !this.#seenAlive(shard)) continue;
      if (!(JSON.parse(entry.value) as MemberValue).leaving) eligible.push(shard);
    }
    // A lapsed lease is handled by #fenceIfLapsed; counting ourselves out here would hand every peer over.
    if (this.#joined && !this.#leaving) eligible.push(this.id);
    return eligible;
  }

  #reconcile(): void {
    if (this.#closing !== undefined && !this.#leaving) return;
    this.#wakeAtNextExpiry();
    const eligible = this.#eligible();
    const desired = new Set<string>();
    for (const [key, entry] of this.#peers.entries) {
      const id = peerIdOf(key);
      desired.add(id);
      if (this.#busy.has(id)) continue;
      const owner = rendezvousOwner(id, eligible);
      const claim = this.#claims.entries.get(key);
      if (this.#held.has(id)) {
        // Someone else holds a newer claim: our lease lapsed and the peer moved on. Let go, keep theirs.
        if (claim !== undefined && claim.value !== this.id) void this.#drop(id, false);
        else if (owner !== this.id) void this.#drop(id, true);
      } else if (owner === this.id && this.#joined && !this.#leaving) {
        // A claim of a member still seen alive (or leaving, releasing one by one) is waited for.
        if (claim === undefined || claim.value === this.id || !this.#seenAlive(claim.value)) {
          void this.#claim(id, key, claim, JSON.parse(entry.value) as Desired);
        }
      }
    }
    for (const id of this.#held.keys()) if (!desired.has(id) && !this.#busy.has(id)) void this.#drop(id, true);
  }

  /**
   * Takes the claim (create, or compare-and-set over a dead holder's
   * revision), then dials. A holder is dead only once the server itself has
   * expired its membership key: our view of it may lag.
   */
  async #claim(id: string, key: string, claim: { value: string; revision: number } | undefined, desired: Desired): Promise<void> {
    this.#busy.add(id);
    try {
      if (claim !== undefined && claim.value !== this.id) {
        // Our view says its lease ran out; the server may expire it a moment later: ask again soon.
        if (await this.#members.confirmed(claim.value)) {
          this.#retryTimer ??= setTimeout(() => {
            this.#retryTimer = undefined;
            this.#reconcileSoon();
          }, 100);
          return;
        }
      }
      const value = new TextEncoder().encode(this.id);
      const epoch = claim === undefined ? await this.#buckets.claims.create(key, value) : await this.#buckets.claims.update(key, value, claim.revision);
      this.#claims.note(key, { value: this.id, revision: epoch });
      this.#held.set(id, epoch);
      this.#stamps.set(id, { epoch, seq: 0, eventSeq: 0 });
      this.pool.connect(desired.url, desired.options);
      this.#log.debug({ peer: id, epoch }, 'claimed');
    } catch (error) {
      // Lost the race: the watcher tells who won.
      this.#log.debug({ peer: id, err: error }, 'claim refused');
    } finally {
      this.#busy.delete(id);
    }
  }

  /**
   * Stops our worker for the peer and waits for its final `disconnected`;
   * then, if `release`, deletes our claim (only if it is still ours) so the
   * new owner can take it.
   */
  async #drop(id: string, release: boolean): Promise<void> {
    const epoch = this.#held.get(id);
    if (epoch === undefined || this.#busy.has(id)) return;
    this.#busy.add(id);
    this.#held.delete(id);
    try {
      await this.pool.remove(id).catch(() => {});
      if (release) await this.#buckets.claims.delete(peerKey(id), { previousSeq: epoch });
    } catch (error) {
      this.#log.debug({ peer: id, err: error }, 'release refused (the claim moved on)');
    } finally {
      this.#busy.delete(id);
      this.#reconcileSoon();
    }
  }

  #onSend(msg: Msg): void {
    let reply: SendReply;
    try {
      const request = decodeJson<SendRequest>(msg.data);
      if (!this.#held.has(request.id)) {
        reply = { ok: false, code: 'HONEYBEE_ERR_NO_OWNER', message: `shard ${this.id} does not hold ${request.id}` };
      } else {
        this.pool.send(request.id, request.binary ? new Uint8Array(Buffer.from(request.data, 'base64')) : request.data);
        reply = { ok: true };
      }
    } catch (error) {
      reply = { ok: false, code: error instanceof HoneybeeError ? error.code : 'ERR', message: error instanceof Error ? error.message : String(error) };
    }
    msg.respond(encodeJson(reply));
  }

  async #leave(): Promise<void> {
    this.#leaving = true;
    // Tell the others first: they stop counting us for new peers, and take each of ours as we release it.
    this.#renew();
    await Promise.all([...this.#held.keys()].map((id) => this.#drop(id, true)));
    for (const timer of [...this.#timers, this.#expiryTimer, this.#retryTimer]) clearTimeout(timer);
    await this.#buckets.members.delete(this.id).catch(() => {});
    this.#sendSub.unsubscribe();
    await this.pool.close();
    this.#publisher.giveUpAfter(5000);
    await this.#exported;
    for (const mirror of [this.#members, this.#peers, this.#claims]) mirror.stop();
  }
}

/**
 * Starts a shard: a local pool that joins cluster `cluster` on NATS, takes
 * its rendezvous share of the peers clients registered, and publishes what
 * they send to the cluster's stream.
 *
 * @throws InvalidOptionError on a bad option.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { createShard } from 'honeybee-pool/nats';
 * const shard = await createShard({ nats: await connect({ servers: 'nats://127.0.0.1:4222' }), cluster: 'relays' });
 * process.on('SIGTERM', () => void shard.close());
 * ```
 */
export async function createShard(options: ShardOptions): Promise<Shard> {
  const checked = checkShardOptions(options);
  const names = clusterNames(checked.cluster);
  const [buckets, members] = await Promise.all([
    openCluster(checked.nats, names, checked.streamMaxBytes),
    openMembers(checked.nats, names, checked.leaseTtl)
  ]);
  const shard = new NatsShard(checked, { ...buckets, members });
  shard.start();
  return shard;
}
