import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import type { Logger } from '../logger.ts';
import {
  ConnectionUnavailableError,
  InvalidOptionError,
  InvalidPayloadError,
  PeerExistsError,
  PeerNotFoundError,
  PoolClosedError,
  ShardModuleError,
  ShardProcessError
} from '../errors.ts';
import { EventStream } from '../event-stream.ts';
import { Inbox } from '../inbox.ts';
import { normalizeUrl, redactUrl } from '../normalize-url.ts';
import { resolveConnectOptions, resolvePoolOptions, resolveReadyOptions } from '../options.ts';
import { ReadyWaiters } from '../ready-waiters.ts';
import type { BroadcastResult, InboxMessage, PeerStats, PoolEvent, PoolEvents, PoolInbox, PoolStats, ReadyOptions } from '../types.ts';
import { initialWorkerStats } from '../worker-stats.ts';
import { wsTransport } from '../transports/ws.ts';
import type { FrameBatch, LogLine, PackedBatch, ShardReport, ThreadConnectOptions, ThreadInit, ThreadPoolOptions } from './protocol.ts';
import { rendezvousOwner } from './rendezvous.ts';
import { fromWire } from './wire-error.ts';
import { ShardThread } from './shard-thread.ts';
import { checkShardedOptions, type ShardedPoolOptions } from './sharded-options.ts';
import type { ShardedPool, ShardedPoolStats } from './sharded-pool-types.ts';

/** A registered peer, as the main thread tracks it. */
interface Entry {
  readonly id: string;
  readonly label: string;
  readonly shard: ShardThread;
  readonly options: ThreadConnectOptions | undefined;
  connected: boolean;
  drops: number;
  waiters: ReadyWaiters | undefined;
}

/** A `sendAsync()` waiting for its thread's verdict. */
interface Verdict {
  readonly shard: ShardThread;
  readonly label: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** A `remove()` whose thread has not yet said the worker finished. */
interface Removal {
  readonly shard: ShardThread;
  readonly done: () => void;
}

function isPayload(data: unknown): data is string | Uint8Array | ArrayBuffer {
  return typeof data === 'string' || data instanceof Uint8Array || data instanceof ArrayBuffer;
}

class ShardedHoneybeePool<T> implements ShardedPool<T> {
  readonly id: string;
  readonly shardIds: readonly string[];
  readonly #base: ReturnType<typeof resolvePoolOptions>;
  readonly #logger: Logger;
  readonly #inbox: Inbox<T>;
  readonly #onProcessError: ((error: ShardProcessError) => void) | undefined;
  readonly #events: EventStream;
  readonly #threads = new Map<string, ShardThread>();
  readonly #registry = new Map<string, Entry>();
  readonly #removals = new Map<string, Removal[]>();
  readonly #verdicts = new Map<number, Verdict>();
  #tickets = 0;
  readonly #started: Promise<void>;
  readonly #notStarted: Set<string>;
  #markStarted: () => void = () => {};
  #failStarted: (error: Error) => void = () => {};
  #sent = 0;
  #failures = 0;
  #processErrors = 0;
  #processDropped = 0;
  #closing: Promise<void> | undefined;

  constructor(options: ShardedPoolOptions) {
    const { shards, statsInterval, maxBatch, logger, signal, module: _module, moduleHref, onProcessError, ...poolOptions } = checkShardedOptions(options);
    this.#onProcessError = onProcessError;
    const checked = { ...poolOptions, ...(logger === undefined ? {} : { logger }), ...(signal === undefined ? {} : { signal }) };
    this.#base = resolvePoolOptions(checked, { transport: () => wsTransport, logger: () => pino({ level: 'silent' }) });
    this.id = this.#base.id;
    this.#logger = this.#base.logger.child({ module: 'honeybee', pool: this.id });
    this.#inbox = new Inbox<T>({
      capacity: this.#base.inboxSize,
      overflow: this.#base.inboxOverflow,
      onDrop: (value) => this.#countDrop(value)
    });
    this.#events = new EventStream({ capacity: this.#base.eventsSize });
    this.shardIds = Array.from({ length: shards }, (_, i) => `t${i}`);
    this.#notStarted = new Set(this.shardIds);
    this.#started = new Promise((resolve, reject) => ((this.#markStarted = resolve), (this.#failStarted = reject)));
    // A module that fails to load rejects started(); nobody has to be listening.
    this.#started.catch(() => {});
    const init = { pool: poolOptions as ThreadPoolOptions, maxBatch, window: 2, statsInterval, ...(moduleHref === undefined ? {} : { module: moduleHref }) };
    const handlers = {
      report: (thread: ShardThread, report: ShardReport) => this.#onReport(thread, report),
      crashed: (thread: ShardThread, code: number, error: Error | undefined) => this.#onCrash(thread, code, error)
    };
    for (const shard of this.shardIds) this.#threads.set(shard, new ShardThread(shard, { ...init, shard } satisfies ThreadInit, handlers));
    if (signal !== undefined) {
      if (signal.aborted) void this.close();
      else signal.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  get inbox(): PoolInbox<T> {
    return this.#inbox;
  }

  get events(): PoolEvents {
    return this.#events;
  }

  connect(url: string, options?: ThreadConnectOptions): string {
    const id = normalizeUrl(url);
    this.#assertOpen('connect');
    if (this.#registry.has(id)) throw new PeerExistsError(redactUrl(id));
    if (options !== undefined) {
      if ((options as { transport?: unknown }).transport !== undefined) {
        throw new InvalidOptionError('transport', 'unset in a sharded pool (a transport cannot cross a thread boundary)', 'a transport');
      }
      resolveConnectOptions(this.#base.connection, options);
    }
    const shard = this.#threads.get(this.shardOf(id)) as ShardThread;
    this.#registry.set(id, { id, label: redactUrl(id), shard, options, connected: false, drops: 0, waiters: undefined });
    shard.post({ op: 'connect', url: id, options });
    return id;
  }

  send(id: string, data: string | Uint8Array | ArrayBuffer): void {
    const entry = this.#sendable(id, data);
    entry.shard.post({ op: 'send', id: entry.id, data });
    this.#sent++;
  }

  sendAsync(id: string, data: string | Uint8Array | ArrayBuffer): Promise<void> {
    let entry: Entry;
    try {
      entry = this.#sendable(id, data);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const ticket = ++this.#tickets;
    this.#sent++;
    return new Promise<void>((resolve, reject) => {
      this.#verdicts.set(ticket, { shard: entry.shard, label: entry.label, resolve, reject });
      entry.shard.post({ op: 'send', id: entry.id, data, ticket });
    });
  }

  /** What `send` checks here, before the thread: open pool, known peer, a payload, connected. */
  #sendable(id: string, data: unknown): Entry {
    this.#assertOpen('send');
    const entry = this.#registry.get(id) ?? this.#entryOf(id);
    if (!isPayload(data)) throw new InvalidPayloadError(entry.label, data);
    if (!entry.connected) throw new ConnectionUnavailableError(entry.label, this.#stateOf(entry));
    return entry;
  }

  broadcast(data: string | Uint8Array | ArrayBuffer, filter?: (id: string) => boolean): BroadcastResult {
    this.#assertOpen('broadcast');
    if (!isPayload(data)) throw new InvalidPayloadError('every peer', data);
    if (filter !== undefined && typeof filter !== 'function') throw new InvalidOptionError('filter', 'a function of the peer id', filter);
    const result: BroadcastResult = { sent: [], refused: [] };
    for (const entry of [...this.#registry.values()]) {
      if (filter !== undefined && !filter(entry.id)) continue;
      if (!entry.connected) {
        result.refused.push({ id: entry.id, error: new ConnectionUnavailableError(entry.label, this.#stateOf(entry)) });
        continue;
      }
      entry.shard.post({ op: 'send', id: entry.id, data });
      this.#sent++;
      result.sent.push(entry.id);
    }
    return result;
  }

  ready(id: string, options?: ReadyOptions): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new PoolClosedError(this.id, 'ready'));
    const checked = resolveReadyOptions(options);
    const entry = this.#entryOf(id);
    if (entry.connected) return Promise.resolve();
    entry.waiters ??= new ReadyWaiters(entry.label);
    return entry.waiters.wait(checked);
  }

  reconnect(id: string): void {
    this.#assertOpen('reconnect');
    const entry = this.#entryOf(id);
    entry.shard.post({ op: 'reconnect', id: entry.id });
  }

  remove(id: string): Promise<void> {
    this.#assertOpen('remove');
    const entry = this.#entryOf(id);
    this.#registry.delete(entry.id);
    entry.waiters?.rejectAll('removed');
    entry.shard.post({ op: 'remove', id: entry.id });
    return new Promise((done) => {
      const pending = this.#removals.get(entry.id) ?? [];
      this.#removals.set(entry.id, pending);
      pending.push({ shard: entry.shard, done });
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  peers(): string[] {
    return this.#closing === undefined ? [...this.#registry.keys()] : [];
  }

  started(): Promise<void> {
    return this.#started;
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
      commandFailures: this.#failures,
      processErrors: this.#processErrors,
      processDropped: this.#processDropped
    };
  }

  peerStats(id: string): PeerStats {
    return this.#peerStatsOf(this.#entryOf(id));
  }

  #entryOf(id: string): Entry {
    const key = normalizeUrl(id);
    const entry = this.#registry.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    return entry;
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
        this.#notStarted.delete(thread.shard);
        if (this.#notStarted.size === 0) this.#markStarted();
        return;
      case 'inbox':
        return this.#takeInbox(thread, report.messages);
      case 'packed':
        return this.#takePacked(thread, report);
      case 'frames':
        return this.#takeFrames(thread, report);
      case 'events':
        for (const event of report.events) this.#takeEvent(thread, event);
        return;
      case 'removed':
        return this.#settleRemovals(thread, report.id);
      case 'process-error':
        return this.#processFailed(thread, report.messages, report.fate, report.reason);
      case 'log':
        return this.#relayLog(thread, report.lines);
      case 'verdicts':
        return this.#settleVerdicts(report);
      case 'module-failed':
        return this.#moduleFailed(new ShardModuleError(report.module, report.message));
      case 'stats':
      case 'closed':
        for (const failure of report.failures) {
          this.#failures++;
          this.#logger.warn({ peer: redactUrl(failure.id), shard: thread.shard, code: failure.code }, `shard refused ${failure.op}`);
        }
        return;
    }
  }

  #takeInbox(thread: ShardThread, values: readonly unknown[]): void {
    let full = false;
    for (const value of values) if (!this.#inbox.put(value as T)) full = true;
    this.#acknowledge(thread, full);
  }

  #takePacked(thread: ShardThread, batch: PackedBatch): void {
    const { ids, peer, receivedAt, data } = batch;
    // Without a `process`, T is InboxMessage: write() builds each message here.
    const inbox = this.#inbox;
    let full = false;
    for (let i = 0; i < data.length; i++) if (!inbox.write(ids[peer[i] as number] as string, data[i] as string | Uint8Array, receivedAt[i] as number)) full = true;
    this.#acknowledge(thread, full);
  }

  #takeFrames(thread: ShardThread, batch: FrameBatch): void {
    const { ids, peer, receivedAt, ends, binary } = batch;
    const bytes = Buffer.from(batch.bytes);
    const inbox = this.#inbox;
    let full = false;
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i] as number;
      // Binary frames are copied out: the buffer goes back to the thread.
      const data = binary[i] === 1 ? Buffer.from(bytes.subarray(start, end)) : bytes.toString('utf8', start, end);
      if (!inbox.write(ids[peer[i] as number] as string, data, receivedAt[i] as number)) full = true;
      start = end;
    }
    this.#acknowledge(thread, full, batch.bytes);
  }

  #acknowledge(thread: ShardThread, full: boolean, buffer?: ArrayBuffer): void {
    const generation = thread.generation;
    // Under `block`, a full inbox withholds the ack: the thread's own inbox fills and its sockets pause.
    if (full && this.#closing === undefined) this.#inbox.onDrain(() => thread.ack(generation, buffer));
    else thread.ack(generation, buffer);
  }

  #takeEvent(thread: ShardThread, event: PoolEvent): void {
    const entry = this.#registry.get(event.id);
    if (entry !== undefined && entry.shard === thread) {
      if (event.kind === 'connected') {
        entry.connected = true;
        entry.waiters?.resolveAll();
      } else if (event.kind === 'disconnected') {
        entry.connected = false;
      } else if (event.kind === 'retired') {
        this.#registry.delete(event.id);
        entry.waiters?.rejectAll('retired');
      }
    }
    this.#events.write(event);
  }

  /** Settles the `remove()` calls of `id` on `thread` (all of them when `id` is undefined). */
  #settleRemovals(thread: ShardThread, id?: string): void {
    for (const [key, pending] of this.#removals) {
      if (id !== undefined && key !== id) continue;
      const rest = pending.filter((removal) => removal.shard !== thread || (removal.done(), false));
      if (rest.length === 0) this.#removals.delete(key);
      else this.#removals.set(key, rest);
    }
  }

  /** A thread died: its connections are gone with it. Report them, then redial every peer it owned. */
  #onCrash(thread: ShardThread, code: number, error: Error | undefined): void {
    this.#logger.error({ shard: thread.shard, exitCode: code, err: error }, 'shard thread exited; respawning it');
    this.#failures += thread.discardQueue().filter((command) => command.op === 'send' && command.ticket === undefined).length;
    // Sends queued for it or in flight when it died: the connection they were meant for is gone.
    this.#abandonVerdicts(thread, (verdict) => new ConnectionUnavailableError(verdict.label, 'disconnected (its shard thread exited)'));
    this.#settleRemovals(thread);
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
    for (const entry of this.#registry.values()) entry.waiters?.rejectAll('closed');
    await Promise.all([...this.#threads.values()].map((thread) => thread.close()));
    for (const thread of this.#threads.values()) this.#settleRemovals(thread);
    this.#abandonVerdicts(undefined, () => new PoolClosedError(this.id, 'send'));
    this.#registry.clear();
    this.#inbox.end();
    this.#events.end();
    this.#logger.info('closed');
  }

  #countDrop(value: unknown): void {
    // Processed values count against their peer when they still name one.
    const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
    const entry = typeof id === 'string' ? this.#registry.get(id) : undefined;
    if (entry !== undefined) entry.drops += 1;
  }

  #processFailed(thread: ShardThread, messages: number, fate: 'dropped' | 'passed', reason: string): void {
    const error = new ShardProcessError(thread.shard, messages, fate, reason);
    this.#processErrors++;
    if (fate === 'dropped') this.#processDropped += messages;
    this.#logger.warn({ shard: thread.shard, code: error.code, messages, fate }, error.message);
    try {
      this.#onProcessError?.(error);
    } catch (thrown) {
      this.#logger.error({ err: thrown }, 'onProcessError threw');
    }
  }

  #settleVerdicts(report: Extract<ShardReport, { type: 'verdicts' }>): void {
    for (const ticket of report.ok) {
      const verdict = this.#verdicts.get(ticket);
      this.#verdicts.delete(ticket);
      verdict?.resolve();
    }
    for (const { ticket, error } of report.failed) {
      const verdict = this.#verdicts.get(ticket);
      this.#verdicts.delete(ticket);
      this.#failures++;
      verdict?.reject(fromWire(error));
    }
  }

  /** Rejects the verdicts `thread` will never give (it died, or the pool closed around them). */
  #abandonVerdicts(thread: ShardThread | undefined, error: (verdict: Verdict) => Error): void {
    for (const [ticket, verdict] of this.#verdicts) {
      if (thread !== undefined && verdict.shard !== thread) continue;
      this.#verdicts.delete(ticket);
      this.#failures++;
      verdict.reject(error(verdict));
    }
  }

  #relayLog(thread: ShardThread, lines: readonly LogLine[]): void {
    const logger = this.#logger.child({ shard: thread.shard });
    for (const line of lines) {
      if (line.message === undefined) logger[line.level](line.fields);
      else logger[line.level](line.fields, line.message);
    }
  }

  /** The shard module cannot be loaded: no thread can run, so the pool closes and `started()` says why. */
  #moduleFailed(error: ShardModuleError): void {
    if (this.#closing !== undefined) return;
    this.#logger.error({ code: error.code, module: error.module }, error.message);
    this.#failStarted(error);
    void this.close();
  }
}

/**
 * Creates a pool that runs its peers on `shards` worker threads, one honeybee
 * pool per thread, behind the calls of `createPool`. Use it when one core
 * cannot keep up with the peers' traffic. Options that hold functions
 * (`workerFactory`, `transport`, `inspect`) cannot cross a thread and are
 * refused: a shard `module` (see `defineShard`) brings the worker, the
 * transport and the per-batch `process` into each thread instead. `T` is what
 * that `process` returns, one element (`ShardOutput<typeof import('./my-shard.ts').default>`).
 *
 * @throws InvalidOptionError on a bad option (pool options are checked as `createPool` checks them).
 * @example
 * ```ts
 * import { createShardedPool } from 'honeybee-pool/shards';
 * const pool = createShardedPool({ shards: 2, id: 'relays' });
 * pool.connect('wss://relay.example.com');
 * for await (const batch of pool.inbox.batches(512)) handle(batch);
 * ```
 */
export function createShardedPool<T = InboxMessage>(options: ShardedPoolOptions): ShardedPool<T> {
  return new ShardedHoneybeePool<T>(options);
}
