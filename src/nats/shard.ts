import { jetstream } from '@nats-io/jetstream';
import type { Msg, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { HoneybeeError, ShardProcessError } from '../errors.ts';
import { createPool } from '../node.ts';
import type { Pool } from '../pool.ts';
import { rendezvousOwner } from '../shards/rendezvous.ts';
import { resolveShardModule, type LoadedShardModule } from '../shards/shard-module.ts';
import type { ConnectOptions, PoolEvent } from '../types.ts';
import { BucketMirror, openCluster, openMembers, type ClusterBuckets } from './buckets.ts';
import type { KV } from '@nats-io/kv';
import { decodeJson, encodeJson, LAST_SEQ, type SendReply, type SendRequest } from './envelope.ts';
import { EpochLedger, exportEvents, exportInbox, type EventExport, type InboxWork } from './exporter.ts';
import { memberOf, MemberLease } from './lease.ts';
import { clusterNames, peerIdOf, peerKey, type ClusterNames } from './names.ts';
import { ReliablePublisher } from './publisher.ts';
import { checkShardOptions, type CheckedShardOptions, type ShardOptions } from './shard-options.ts';

/** A running shard: a local pool that owns its share of the cluster's peers. */
export interface Shard {
  /** This shard's id in the cluster. */
  readonly id: string;
  /** The local pool (stats, actor, inspector all work on it); do not connect or remove peers on it directly. */
  readonly pool: Pool;
  /** Batches the shard module's `process` failed on (each a `ShardProcessError`, logged and given to `onProcessError`). */
  readonly processErrors: number;
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

/** Resolves after `ms`, or at once when `promise` settles first; never rejects. */
function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).then(() => clearTimeout(timer));
}

class NatsShard implements Shard {
  readonly id: string;
  readonly pool: Pool;
  processErrors = 0;
  readonly #o: CheckedShardOptions;
  readonly #names: ClusterNames;
  readonly #log: Logger;
  readonly #buckets: ClusterBuckets & { readonly members: KV };
  readonly #members: BucketMirror;
  readonly #peers: BucketMirror;
  readonly #claims: BucketMirror;
  /** The peers whose claim we hold (by our own write) and whose worker runs, with the claim's revision. */
  readonly #held = new Map<string, number>();
  readonly #busy = new Set<string>();
  /** Per peer, the epoch whose connection this process itself closed (its `disconnected` is ours, not a loss). */
  readonly #closedHere = new Map<string, number>();
  /** Held peers to hand over once their dial in flight has ended. */
  readonly #handoverWaiting = new Set<string>();
  /** When this shard first saw each other member joining (not ready yet), local clock. */
  readonly #joiningSince = new Map<string, number>();
  readonly #ledger = new EpochLedger();
  readonly #events: EventExport;
  readonly #publisher: ReliablePublisher;
  readonly #exported: Promise<unknown>;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #sendSub: Subscription;
  readonly #lease: MemberLease;
  #leaving = false;
  #reconcileQueued = false;
  #expiryAt = 0;
  #expiryTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #written: number | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: CheckedShardOptions, buckets: ClusterBuckets & { readonly members: KV }, module?: LoadedShardModule) {
    this.#o = o;
    this.id = o.shardId;
    this.#names = clusterNames(o.cluster);
    this.#log = o.logger.child({ module: 'honeybee-nats', shard: o.shardId });
    this.#buckets = buckets;
    const poolId = o.pool.id ?? `${o.cluster}/${o.shardId}`;
    // A shard module's worker and transport run this pool (see honeybee-pool/shards).
    this.pool = createPool({
      ...o.pool,
      id: poolId,
      ...(module?.workerFactory === undefined ? {} : { workerFactory: module.workerFactory }),
      ...(module?.transport === undefined ? {} : { transport: module.transport })
    });
    const changed = (): void => this.#reconcileSoon();
    this.#members = new BucketMirror(buckets.members, changed);
    this.#lease = new MemberLease(buckets.members, this.#members, o.shardId, o, this.#log, {
      holding: () => this.#held.size > 0,
      // Nothing is released: NATS is likely out of reach (a delete would hold the peer busy until it times
      // out), and a claim we no longer hold is fair game to the others once our key is gone or says joining.
      lapsed: () => {
        for (const id of [...this.#held.keys()]) void this.#drop(id, false);
      },
      changed
    });
    this.#peers = new BucketMirror(buckets.peers, changed);
    this.#claims = new BucketMirror(buckets.claims, changed);
    this.#publisher = new ReliablePublisher(jetstream(o.nats), `${o.shardId}.${Date.now()}`, (error) => this.#log.warn({ err: error }, 'publish failed; retrying'));
    const limits = { maxBatch: o.maxBatch, maxBatchBytes: o.maxBatchBytes };
    // A handover waiting for a dial to finish goes on when the dial's outcome is in.
    const dialEnded = (event: PoolEvent): void => {
      if (this.#handoverWaiting.delete(event.id)) this.#reconcileSoon();
    };
    this.#events = exportEvents(this.pool, this.id, this.#names.eventsSubject(this.id), this.#publisher, this.#ledger, limits, dialEnded);
    this.#exported = Promise.all([
      exportInbox(this.pool, this.id, this.#names.inboxSubject(this.id), this.#publisher, this.#ledger, limits, this.#inboxWork(module, poolId)),
      this.#events.done
    ]);
    this.#sendSub = o.nats.subscribe(this.#names.sendSubject(this.id), {
      callback: (error, msg) => {
        if (error === null) this.#onSend(msg);
      }
    });
  }

  /** The module's `process` for the exporter, its failures counted, logged and reported. */
  #inboxWork(module: LoadedShardModule | undefined, poolId: string): InboxWork | undefined {
    if (module?.process === undefined) return undefined;
    return {
      process: module.process,
      failedBatch: module.failedBatch,
      context: { shard: this.id, pool: poolId, logger: this.#log.child({ in: 'process' }) },
      failed: (messages, fate, reason) => {
        const error = new ShardProcessError(this.id, messages, fate, reason);
        this.processErrors++;
        this.#log.warn({ code: error.code, messages, fate }, error.message);
        try {
          this.#o.onProcessError?.(error);
        } catch (thrown) {
          this.#log.error({ err: thrown }, 'onProcessError threw');
        }
      }
    };
  }

  /** Renews at once, then every heartbeat; becomes ready (starts claiming) a heartbeat after the first confirmed renewal. */
  start(): void {
    this.#lease.renew();
    this.#timers.push(setInterval(() => this.#lease.renew(), this.#o.heartbeat));
    void this.#onReconnect();
    // Expiry sends no watch event on nats-server < 2.11: look again each heartbeat.
    this.#timers.push(setInterval(() => this.#reconcileSoon(), this.#o.heartbeat));
  }

  held(): Map<string, number> {
    return new Map(this.#held);
  }

  /**
   * How many peers this shard keeps records for beyond those it holds:
   * epochs in the ledger, connections it closed itself. Both shrink back
   * as peers come and go (a test churns peer ids through a shard).
   * @internal
   */
  records(): { ledger: number; closedHere: number } {
    return { ledger: this.#ledger.size, closedHere: this.#closedHere.size };
  }

  close(): Promise<void> {
    this.#closing ??= this.#leave();
    return this.#closing;
  }

  /**
   * The moment the NATS connection is back: the publish whose ack the old connection lost goes again (not
   * after its 2 s timeout), and the lease renews (not up to a heartbeat later), so a lapsed shard rejoins sooner.
   */
  async #onReconnect(): Promise<void> {
    for await (const status of this.#o.nats.status()) {
      if (this.#closing !== undefined) return;
      if (status.type === 'reconnect') {
        this.#publisher.retryNow();
        this.#lease.renew();
        this.#reconcileSoon();
      }
    }
  }

  #reconcileSoon(): void {
    if (this.#reconcileQueued) return;
    this.#reconcileQueued = true;
    setImmediate(() => {
      this.#reconcileQueued = false;
      this.#reconcile();
    });
  }

  /** Looks again the moment the next silent member's lease would run out, not up to a heartbeat later. */
  #wakeAtNextExpiry(): void {
    let next = Infinity;
    for (const [shard, entry] of this.#members.entries) if (shard !== this.id) next = Math.min(next, entry.seenAt + this.#o.leaseTtl);
    if (next === Infinity || next === this.#expiryAt) return;
    clearTimeout(this.#expiryTimer);
    this.#expiryAt = next;
    this.#expiryTimer = setTimeout(() => this.#reconcileSoon(), Math.max(0, next - Date.now()) + 1);
  }

  /** Whether a member renewed within the lease, as far as this process has seen. */
  #seenAlive(shard: string): boolean {
    const entry = this.#members.entries.get(shard);
    return entry !== undefined && Date.now() - entry.seenAt < this.#o.leaseTtl;
  }

  /** Whether `shard` may hold claims as far as we have seen: alive and ready (a leaving one releases its own). */
  #seenHolding(shard: string): boolean {
    const entry = this.#members.entries.get(shard);
    return entry !== undefined && this.#seenAlive(shard) && memberOf(entry.value).ready !== false;
  }

  /**
   * The members peers are shared between, as this shard has seen them (alive
   * and not leaving; this shard once it is ready). `ready` lists the ready
   * ones: a held peer is given up only to one of them, so a joining shard
   * takes its share with a gap of one dial. `claiming` adds the shards still
   * joining: nobody claims a joining shard's share, so after an outage that
   * lapsed every lease each shard takes back its own share, not everything
   * and then half of it again.
   */
  #shares(): { ready: string[]; claiming: string[] } {
    const ready: string[] = [];
    const claiming: string[] = [];
    for (const [shard, entry] of this.#members.entries) {
      if (shard === this.id) continue;
      const member = memberOf(entry.value);
      if (!this.#seenAlive(shard) || member.leaving) {
        this.#joiningSince.delete(shard);
        continue;
      }
      if (member.ready !== false) {
        this.#joiningSince.delete(shard);
        ready.push(shard);
        claiming.push(shard);
        continue;
      }
      // A join takes a heartbeat and a renewal; one that takes longer than a lease (its renewals land, their
      // answers do not) no longer keeps its share waiting.
      const since = this.#joiningSince.get(shard) ?? Date.now();
      this.#joiningSince.set(shard, since);
      if (Date.now() - since < this.#o.leaseTtl) claiming.push(shard);
    }
    // A failed renewal keeps us in until the fence: counting ourselves out would hand every peer over at each blip.
    if (this.#lease.ready) {
      ready.push(this.id);
      claiming.push(this.id);
    }
    return { ready, claiming };
  }

  #reconcile(): void {
    if (this.#closing !== undefined && !this.#leaving) return;
    this.#lease.check();
    this.#wakeAtNextExpiry();
    const shares = this.#shares();
    const claiming = this.#lease.mayClaim(this.#lease.incarnation);
    const desired = new Set<string>();
    for (const [key, entry] of this.#peers.entries) {
      const id = peerIdOf(key);
      desired.add(id);
      if (this.#busy.has(id)) continue;
      const claim = this.#claims.entries.get(key);
      const epoch = this.#held.get(id);
      if (epoch !== undefined) {
        // The claim is gone or is no longer the one we wrote: close the connection at once, release nothing.
        if (claim === undefined || claim.value !== this.id || claim.revision !== epoch) void this.#drop(id, false);
        // A dial in flight is let finish (handshakeTimeout at most), then closed: an aborted dial can still
        // reach the peer as an open socket after our claim is gone.
        else if (rendezvousOwner(id, shares.ready) !== this.id) {
          if (this.#dialing(id)) this.#handoverWaiting.add(id);
          else void this.#drop(id, true);
        }
        continue;
      }
      const mine = rendezvousOwner(id, shares.claiming) === this.id;
      if (claiming && mine) {
        // A holder still seen alive and ready is waited for: it releases the peer when it sees us as its owner.
        if (claim === undefined || claim.value === this.id || !this.#seenHolding(claim.value)) {
          void this.#claim(id, key, claim, JSON.parse(entry.value) as Desired);
        }
      } else if (!mine && claim?.value === this.id && this.#lease.ready) {
        // A claim of ours we do not hold (a release that failed, a lapse): its owner waits for us to let go.
        void this.#releaseStale(id, key, claim.revision);
      }
    }
    for (const id of this.#held.keys()) if (!desired.has(id) && !this.#busy.has(id)) void this.#drop(id, true);
    this.#forgetClosed();
    if (!claiming) return;
    // A claim left on a peer nobody wants any more: its holder died (or restarted) holding it, so nobody
    // else would ever end that connection in the events. Its rendezvous owner clears it and says so.
    for (const [key, claim] of this.#claims.entries) {
      const id = peerIdOf(key);
      if (desired.has(id) || this.#held.has(id) || this.#busy.has(id)) continue;
      if (claim.value === this.id || (!this.#seenHolding(claim.value) && rendezvousOwner(id, shares.claiming) === this.id)) {
        void this.#retireOrphan(id, key, claim);
      }
    }
  }

  /**
   * A connection this process closed matters only while its claim is the
   * peer's current one (a later claim has a higher revision, and revisions
   * never come back): once the mirror shows another claim or none, its entry
   * goes. Peers being claimed or dropped now are left for the next reconcile.
   */
  #forgetClosed(): void {
    for (const [id, epoch] of this.#closedHere) {
      if (this.#busy.has(id)) continue;
      if (this.#claims.entries.get(peerKey(id))?.revision !== epoch) this.#closedHere.delete(id);
    }
  }

  /**
   * Deletes the claim `claim` on a peer no longer registered, whose holder is
   * gone (the server has no ready key for it) or is this shard's earlier life,
   * then reports that connection's end (`owner_lost`) unless this process
   * closed it itself.
   */
  async #retireOrphan(id: string, key: string, claim: { value: string; revision: number }): Promise<void> {
    this.#busy.add(id);
    const incarnation = this.#lease.incarnation;
    try {
      if (claim.value !== this.id && !(await this.#holderGone(claim.value))) return;
      if (!this.#lease.mayClaim(incarnation)) return;
      await this.#buckets.claims.delete(key, { previousSeq: claim.revision });
      this.#claims.note(key, undefined);
      if (this.#closedHere.get(id) !== claim.revision) this.#reportLost(id, claim.value, claim.revision);
      this.#log.debug({ peer: id, epoch: claim.revision, holder: claim.value }, 'orphaned claim cleared');
    } catch (error) {
      this.#log.debug({ peer: id, err: error }, 'orphaned claim not cleared (it moved on)');
    } finally {
      this.#busy.delete(id);
    }
  }

  /** Whether the server itself has no ready key for `shard` (our view of it may lag): only then are its claims free. */
  async #holderGone(shard: string): Promise<boolean> {
    const holder = await this.#members.current(shard);
    return holder === undefined || memberOf(holder).ready === false;
  }

  /** Deletes a claim we just wrote, by its revision, without dialing under it (a newer claim stays). */
  #giveBack(key: string, epoch: number): Promise<void> {
    return this.#buckets.claims.delete(key, { previousSeq: epoch }).catch(() => {});
  }

  /** Whether our worker for `id` is opening its socket now; the next reconcile (its `connected`, a heartbeat) looks again. */
  #dialing(id: string): boolean {
    try {
      return this.pool.peerStats(id).state === 'dialing';
    } catch {
      return false;
    }
  }

  /**
   * Takes the claim (create, or compare-and-set over a dead or rejoining
   * holder's revision), then dials, only while our own lease is confirmed
   * current. A holder is dead only once the server itself has no ready key
   * for it: our view of it may lag.
   */
  async #claim(id: string, key: string, claim: { value: string; revision: number } | undefined, desired: Desired): Promise<void> {
    this.#busy.add(id);
    const incarnation = this.#lease.incarnation;
    try {
      if (claim !== undefined && claim.value !== this.id && !(await this.#holderGone(claim.value))) {
        // Our view says it is gone; the server may expire it a moment later: ask again soon.
        this.#retryTimer ??= setTimeout(() => {
          this.#retryTimer = undefined;
          this.#reconcileSoon();
        }, 100);
        return;
      }
      if (!this.#lease.mayClaim(incarnation)) return;
      const value = new TextEncoder().encode(this.id);
      const epoch = claim === undefined ? await this.#buckets.claims.create(key, value) : await this.#buckets.claims.update(key, value, claim.revision);
      this.#claims.note(key, { value: this.id, revision: epoch });
      if (!this.#lease.mayClaim(incarnation)) {
        // The lease lapsed while the claim was on its way: give it straight back, dial nothing.
        await this.#giveBack(key, epoch);
        return;
      }
      if (claim !== undefined && this.#closedHere.get(id) !== claim.revision) this.#reportLost(id, claim.value, claim.revision);
      this.#ledger.open(id, epoch, this.#writtenNow());
      this.#held.set(id, epoch);
      try {
        this.pool.connect(desired.url, desired.options);
      } catch (error) {
        // A claim with no worker behind it would leave the peer owned and never dialed: give it back.
        this.#held.delete(id);
        this.#ledger.forget(id, this.#writtenNow());
        this.#log.warn({ peer: id, err: error }, 'claimed, but the local pool refused the peer; claim released');
        await this.#giveBack(key, epoch);
        return;
      }
      this.#log.debug({ peer: id, epoch }, 'claimed');
    } catch (error) {
      // Lost the race: the watcher tells who won.
      this.#log.debug({ peer: id, err: error }, 'claim refused');
    } finally {
      this.#busy.delete(id);
    }
  }

  /**
   * The previous holder's connection ended without its `disconnected` (it
   * was killed, or lost its lease): report it, under its epoch, before our
   * own `connected` of the new one.
   */
  #reportLost(id: string, holder: string, epoch: number): void {
    const reason = holder === this.id ? 'this shard restarted' : `shard ${holder} lost its lease`;
    this.#events.report({ kind: 'disconnected', id, at: Date.now(), code: 1006, reason, cause: 'owner_lost', shard: holder, epoch, seq: LAST_SEQ });
  }

  /** Frames the pool's inbox has kept so far; read once per turn of the event loop (stats() walks every peer). */
  #writtenNow(): number {
    if (this.#written === undefined) {
      // Frames already read but still held in their links (the inbox was full) enter the inbox
      // before anything read from now on, so the new epoch starts after them too.
      const stats = this.pool.stats();
      this.#written = stats.totalReceived + (stats.inboxHeld ?? 0);
      setImmediate(() => (this.#written = undefined));
    }
    return this.#written;
  }

  /**
   * Stops our worker for the peer and waits for its final `disconnected`;
   * then, if `release`, waits (a heartbeat at most) for that event to be sent
   * and deletes our claim (only if it is still ours), so the next owner's
   * `connected` follows it on the stream.
   */
  async #drop(id: string, release: boolean): Promise<void> {
    const epoch = this.#held.get(id);
    if (epoch === undefined || this.#busy.has(id)) return;
    this.#busy.add(id);
    this.#held.delete(id);
    try {
      await this.pool.remove(id).catch(() => {});
      this.#closedHere.set(id, epoch);
      // The events reader takes the final event on a later microtask: let it run. By then every frame of the
      // ended worker is in the inbox (or held in its link, which counts), so the ledger may let the peer go
      // once the exporter has taken them.
      await new Promise((resolve) => setImmediate(resolve));
      this.#ledger.forget(id, this.#writtenNow());
      if (release) {
        // Wait until that final event is on its way to the server, ahead of the delete (a heartbeat at most,
        // if earlier publishes are stuck).
        await within(this.#events.sent(), this.#o.heartbeat);
        await this.#buckets.claims.delete(peerKey(id), { previousSeq: epoch });
      }
    } catch (error) {
      this.#log.debug({ peer: id, err: error }, 'release refused (the claim moved on)');
    } finally {
      this.#busy.delete(id);
      this.#reconcileSoon();
    }
  }

  /** Deletes a claim of ours that we do not hold, by its revision (a newer claim stays). */
  async #releaseStale(id: string, key: string, revision: number): Promise<void> {
    this.#busy.add(id);
    try {
      await this.#buckets.claims.delete(key, { previousSeq: revision });
    } catch (error) {
      this.#log.debug({ peer: id, err: error }, 'stale claim not released (it moved on)');
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
    this.#lease.leave();
    await Promise.all([...this.#held.keys()].map((id) => this.#drop(id, true)));
    this.#lease.stop();
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
  // The same module a sharded pool's threads import, by URL or as the object; ShardModuleError if unusable.
  const module = checked.module === undefined ? undefined : await resolveShardModule(checked.module);
  const names = clusterNames(checked.cluster);
  const [buckets, members] = await Promise.all([openCluster(checked.nats, names, checked.streamMaxBytes), openMembers(checked.nats, names, checked.leaseTtl)]);
  const shard = new NatsShard(checked, { ...buckets, members }, module);
  shard.start();
  return shard;
}
