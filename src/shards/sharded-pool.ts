import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  ConnectionUnavailableError,
  InvalidOptionError,
  InvalidPayloadError,
  PeerExistsError,
  PeerNotFoundError,
  PoolClosedError
} from '../errors.ts';
import { EventStream } from '../event-stream.ts';
import { Inbox } from '../inbox.ts';
import { normalizeUrl, redactUrl } from '../normalize-url.ts';
import { resolveConnectOptions, resolvePoolOptions } from '../options.ts';
import type { PeerStats, PoolEvent, PoolInbox, PoolStats, ResolvedPoolOptions } from '../types.ts';
import { initialWorkerStats } from '../worker-stats.ts';
import { wsDialer } from '../ws-dialer.ts';
import type { ShardReport, ThreadConnectOptions, ThreadInit, ThreadPoolOptions } from './protocol.ts';
import { rendezvousOwner } from './rendezvous.ts';
import { ShardThread } from './shard-thread.ts';
import { checkShardedOptions, type ShardedPoolOptions } from './sharded-options.ts';

/** One shard thread as `stats()` reports it. */
export interface ShardStats {
  readonly shard: string;
  /** Peers assigned to this shard. */
  readonly peerCount: number;
  /** Whether the thread is running (false while it is being respawned). */
  readonly alive: boolean;
  /** How many times the thread died and was started again. */
  readonly restarts: number;
}

/** A sharded pool's stats: the pool totals plus one row per shard thread. */
export interface ShardedPoolStats extends PoolStats {
  readonly shards: ShardStats[];
  /** Commands a thread refused after the main thread had accepted them (a peer that dropped in between). */
  readonly commandFailures: number;
}

/**
 * A pool whose peers live on `shards` worker threads, behind the same calls
 * as `Pool`. Peer-to-thread assignment is rendezvous hashing over the shard
 * ids. `stats()` and `peerStats()` are at most `statsInterval` ms old.
 */
export interface ShardedPool {
  readonly id: string;
  /** Every thread's inbox, merged; batches cross the thread boundary whole. Single consumer. */
  readonly inbox: PoolInbox;
  /** Every thread's lifecycle events, merged. Single consumer; bounded, drops oldest. */
  readonly events: AsyncIterable<PoolEvent>;
  /** The shard ids, `t0` … `t<n-1>`. */
  readonly shardIds: readonly string[];
  connect(url: string, options?: ThreadConnectOptions): string;
  /** Sends through the owning thread. Throws what `Pool.send` throws when it can tell here (unknown peer, not connected). */
  send(id: string, data: string | Uint8Array | ArrayBuffer): void;
  remove(id: string): void;
  close(): Promise<void>;
  peers(): string[];
  stats(): ShardedPoolStats;
  peerStats(id: string): PeerStats;
  /** Resolves once every thread has started. Commands given earlier are queued, not lost. */
  ready(): Promise<void>;
  /** The shard that owns a peer id. */
  shardOf(id: string): string;
  /** The running thread of a shard (undefined while it is respawned). */
  thread(shard: string): Worker | undefined;
}

/** A registered peer, as the main thread tracks it. */
interface Entry {
  readonly id: string;
  readonly label: string;
  readonly shard: ShardThread;
  readonly options: ThreadConnectOptions | undefined;
  connected: boolean;
  drops: number;
}

class ShardedHoneybeePool implements ShardedPool {
  readonly id: string;
  readonly shardIds: readonly string[];
  readonly #resolved: ResolvedPoolOptions;
  readonly #logger: Logger;
  readonly #inbox: Inbox;
  readonly #events: EventStream;
  readonly #threads = new Map<string, ShardThread>();
  readonly #registry = new Map<string, Entry>();
  readonly #ready: Promise<void>;
  #notReady: Set<string>;
  #markReady: () => void = () => {};
  #sent = 0;
  #failures = 0;
  #closing: Promise<void> | undefined;

  constructor(options: ShardedPoolOptions) {
    const { shards, statsInterval, maxBatch, logger, ...poolOptions } = checkShardedOptions(options);
    this.#resolved = resolvePoolOptions(logger === undefined ? poolOptions : { ...poolOptions, logger }, wsDialer);
    this.id = this.#resolved.id;
    this.#logger = this.#resolved.logger.child({ module: 'honeybee', pool: this.id });
    this.#inbox = new Inbox({
      capacity: this.#resolved.inboxSize,
      overflow: this.#resolved.inboxOverflow,
      onDrop: (message) => this.#countDrop(message.id)
    });
    this.#events = new EventStream({ capacity: this.#resolved.eventsSize });
    this.shardIds = Array.from({ length: shards }, (_, i) => `t${i}`);
    this.#notReady = new Set(this.shardIds);
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    const init = { pool: poolOptions as ThreadPoolOptions, maxBatch, window: 2, statsInterval };
    const handlers = {
      report: (thread: ShardThread, report: ShardReport) => this.#onReport(thread, report),
      crashed: (thread: ShardThread, code: number, error: Error | undefined) => this.#onCrash(thread, code, error)
    };
    for (const shard of this.shardIds) this.#threads.set(shard, new ShardThread(shard, { ...init, shard } satisfies ThreadInit, handlers));
  }

  get inbox(): PoolInbox {
    return this.#inbox;
  }

  get events(): AsyncIterable<PoolEvent> {
    return this.#events;
  }

  connect(url: string, options?: ThreadConnectOptions): string {
    const id = normalizeUrl(url);
    this.#assertOpen('connect');
    if (this.#registry.has(id)) throw new PeerExistsError(redactUrl(id));
    if (options !== undefined) {
      if ((options as { dialer?: unknown }).dialer !== undefined) {
        throw new InvalidOptionError('dialer', 'unset in a sharded pool (a function cannot cross a thread boundary)', 'a function');
      }
      resolveConnectOptions(this.#resolved.connection, options);
    }
    const shard = this.#threads.get(this.shardOf(id)) as ShardThread;
    this.#registry.set(id, { id, label: redactUrl(id), shard, options, connected: false, drops: 0 });
    shard.post({ op: 'connect', url: id, options });
    return id;
  }

  send(id: string, data: string | Uint8Array | ArrayBuffer): void {
    this.#assertOpen('send');
    const entry = this.#registry.get(id) ?? this.#registry.get(normalizeUrl(id));
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(id));
    if (typeof data !== 'string' && !(data instanceof Uint8Array) && !(data instanceof ArrayBuffer)) {
      throw new InvalidPayloadError(entry.label, data);
    }
    if (!entry.connected) throw new ConnectionUnavailableError(entry.label, this.#stateOf(entry));
    entry.shard.post({ op: 'send', id: entry.id, data });
    this.#sent++;
  }

  remove(id: string): void {
    const key = normalizeUrl(id);
    this.#assertOpen('remove');
    const entry = this.#registry.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    this.#registry.delete(key);
    entry.shard.post({ op: 'remove', id: key });
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  peers(): string[] {
    return this.#closing === undefined ? [...this.#registry.keys()] : [];
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  shardOf(id: string): string {
    return rendezvousOwner(normalizeUrl(id), this.shardIds) as string;
  }

  thread(shard: string): Worker | undefined {
    return this.#threads.get(shard)?.worker;
  }

  stats(): ShardedPoolStats {
    const threads = [...this.#threads.values()];
    const sum = (pick: (stats: PoolStats) => number): number => threads.reduce((total, t) => total + (t.stats ? pick(t.stats) : 0), 0);
    const peers = [...this.#registry.values()].map((entry) => this.#peerStatsOf(entry));
    const counts = new Map<ShardThread, number>();
    for (const entry of this.#registry.values()) counts.set(entry.shard, (counts.get(entry.shard) ?? 0) + 1);
    return {
      peerCount: peers.length,
      inboxDepth: this.#inbox.depth + sum((s) => s.inboxDepth),
      eventsDepth: this.#events.depth + sum((s) => s.eventsDepth),
      totalReceived: this.#inbox.received - this.#inbox.dropped,
      totalSent: this.#sent - this.#failures,
      inboxDropped: this.#inbox.dropped + sum((s) => s.inboxDropped),
      eventsDropped: this.#events.dropped + sum((s) => s.eventsDropped),
      peers,
      shards: threads.map((t) => ({ shard: t.shard, peerCount: counts.get(t) ?? 0, alive: t.worker !== undefined, restarts: t.restarts })),
      commandFailures: this.#failures
    };
  }

  peerStats(id: string): PeerStats {
    const key = normalizeUrl(id);
    const entry = this.#registry.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    return this.#peerStatsOf(entry);
  }

  #assertOpen(operation: string): void {
    if (this.#closing !== undefined) throw new PoolClosedError(this.id, operation);
  }

  #peerStatsOf(entry: Entry): PeerStats {
    const cached = entry.shard.stats?.peers.find((peer) => peer.id === entry.id);
    const stats = cached ?? { ...initialWorkerStats(this.#stateOf(entry)), connected: entry.connected, id: entry.id, drops: 0 };
    return { ...stats, id: entry.id, drops: stats.drops + entry.drops };
  }

  #stateOf(entry: Entry): string {
    if (entry.connected) return 'connected';
    return entry.shard.worker === undefined ? 'respawning' : 'dialing';
  }

  #onReport(thread: ShardThread, report: ShardReport): void {
    switch (report.type) {
      case 'ready':
        this.#notReady.delete(thread.shard);
        if (this.#notReady.size === 0) this.#markReady();
        return;
      case 'inbox':
        return this.#takeInbox(thread, report.messages);
      case 'events':
        for (const event of report.events) this.#takeEvent(thread, event);
        return;
      case 'stats':
      case 'closed':
        for (const failure of report.failures) {
          this.#failures++;
          this.#logger.warn({ peer: redactUrl(failure.id), shard: thread.shard, code: failure.code }, `shard refused ${failure.op}`);
        }
        return;
    }
  }

  #takeInbox(thread: ShardThread, messages: readonly { id: string; data: string | Uint8Array; receivedAt: number }[]): void {
    let full = false;
    for (const message of messages) if (!this.#inbox.write(message.id, message.data, message.receivedAt)) full = true;
    const generation = thread.generation;
    // Under `block`, a full inbox withholds the ack: the thread's own inbox fills and its sockets pause.
    if (full && this.#closing === undefined) this.#inbox.onDrain(() => thread.ack(generation));
    else thread.ack(generation);
  }

  #takeEvent(thread: ShardThread, event: PoolEvent): void {
    const entry = this.#registry.get(event.id);
    if (entry !== undefined && entry.shard === thread) {
      if (event.kind === 'connected') entry.connected = true;
      else if (event.kind === 'disconnected') entry.connected = false;
      else if (event.kind === 'retired') this.#registry.delete(event.id);
    }
    this.#events.write(event);
  }

  /** A thread died: its connections are gone with it. Report them, then redial every peer it owned. */
  #onCrash(thread: ShardThread, code: number, error: Error | undefined): void {
    this.#logger.error({ shard: thread.shard, exitCode: code, err: error }, 'shard thread exited; respawning it');
    const lost = thread.discardQueue().filter((command) => command.op === 'send').length;
    this.#failures += lost;
    const at = Date.now();
    for (const entry of this.#registry.values()) {
      if (entry.shard !== thread) continue;
      if (entry.connected) {
        entry.connected = false;
        this.#events.write({ kind: 'disconnected', id: entry.id, at, code: 1006, reason: 'shard thread exited', cause: 'network_error' });
      }
      thread.post({ op: 'connect', url: entry.id, options: entry.options });
    }
  }

  async #shutdown(): Promise<void> {
    this.#logger.info({ peers: this.#registry.size }, 'closing');
    await Promise.all([...this.#threads.values()].map((thread) => thread.close()));
    this.#registry.clear();
    this.#inbox.end();
    this.#events.end();
    this.#logger.info('closed');
  }

  #countDrop(id: string): void {
    const entry = this.#registry.get(id);
    if (entry !== undefined) entry.drops += 1;
  }
}

/**
 * Creates a pool that runs its peers on `shards` worker threads, one honeybee
 * pool per thread, behind the same calls as `createPool`. Use it when one
 * core cannot keep up with the peers' traffic. Options that hold functions
 * (`workerFactory`, `dialer`, `inspect`) cannot cross a thread and are refused.
 *
 * @throws InvalidOptionError on a bad option (the pool options are checked as `createPool` checks them).
 * @example
 * ```ts
 * import { createShardedPool } from 'honeybee-pool/shards';
 * const pool = createShardedPool({ shards: 2, id: 'relays' });
 * pool.connect('wss://relay.example.com');
 * for await (const batch of pool.inbox.batches(512)) handle(batch);
 * ```
 */
export function createShardedPool(options: ShardedPoolOptions): ShardedPool {
  return new ShardedHoneybeePool(options);
}
