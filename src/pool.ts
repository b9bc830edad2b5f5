import type { Logger } from 'pino';
import { createActor, waitFor, type Actor } from 'xstate';
import type { WorkerEmitted } from '../machines/worker-events.ts';
import { poolMachine } from '../machines/pool-machine.ts';
import { defaultWorkerFactory } from './default-worker.ts';
import {
  FactoryError,
  InvalidPayloadError,
  PeerExistsError,
  PeerNotFoundError,
  PoolClosedError,
  errorText
} from './errors.ts';
import { EventStream } from './event-stream.ts';
import { Inbox } from './inbox.ts';
import { indexScheduler } from './indexed-scheduler.ts';
import { normalizeUrl, redactUrl } from './normalize-url.ts';
import { resolveConnectOptions, resolvePoolOptions } from './options.ts';
import type {
  ConnectOptions,
  ConnectionOptions,
  PeerStats,
  PoolEvent,
  PoolOptions,
  PoolInbox,
  PoolPlugin,
  PoolStats,
  ResolvedPoolOptions,
  Worker,
  WorkerStats
} from './types.ts';
import { wsDialer } from './ws-dialer.ts';
import { initialWorkerStats } from './worker-stats.ts';

/** A registered peer (or a removed one that is still finishing). */
interface PeerEntry {
  readonly id: string;
  readonly label: string;
  readonly worker: Worker;
  drops: number;
}

/** The pool façade returned by {@link createPool}. */
export interface Pool {
  /** The pool id (`options.id`). */
  readonly id: string;
  /** Received messages of every peer, tagged with the peer id: `for await`, or batches for hot consumers. Single consumer. */
  readonly inbox: PoolInbox;
  /** Lifecycle events of every peer. Single consumer; bounded, drops oldest. */
  readonly events: AsyncIterable<PoolEvent>;
  /** The XState pool actor: `subscribe`, `getSnapshot`, `on('connected', …)`, `system.inspect`. */
  readonly actor: Actor<typeof poolMachine>;
  connect(url: string, options?: ConnectOptions): string;
  send(id: string, data: string | Uint8Array | ArrayBuffer): void;
  remove(id: string): void;
  close(): Promise<void>;
  peers(): string[];
  stats(): PoolStats;
  peerStats(id: string): PeerStats;
}

const EMPTY_STATS: WorkerStats = { ...initialWorkerStats('unknown'), lastError: 'stats() threw' };

function isWorker(value: unknown): value is Worker {
  const candidate = value as Partial<Worker> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.start === 'function' &&
    typeof candidate.stop === 'function' &&
    typeof candidate.send === 'function' &&
    typeof candidate.stats === 'function'
  );
}

function isPayload(data: unknown): data is string | Uint8Array | ArrayBuffer {
  return typeof data === 'string' || data instanceof Uint8Array || data instanceof ArrayBuffer;
}

class HoneybeePool implements Pool {
  readonly id: string;
  readonly actor: Actor<typeof poolMachine>;
  readonly #options: ResolvedPoolOptions;
  readonly #logger: Logger;
  readonly #inbox: Inbox;
  readonly #events: EventStream;
  readonly #registry = new Map<string, PeerEntry>();
  readonly #live = new Set<PeerEntry>();
  readonly #abort = new AbortController();
  #totalSent = 0;
  #closing: Promise<void> | undefined;
  #inFactory = false;
  #reentered = false;

  constructor(options: ResolvedPoolOptions) {
    this.#options = options;
    this.id = options.id;
    this.#logger = options.logger.child({ module: 'honeybee', pool: options.id });
    this.#inbox = new Inbox({
      capacity: options.inboxSize,
      overflow: options.inboxOverflow,
      onDrop: (message) => this.#countDrop(message.id)
    });
    this.#events = new EventStream({ capacity: options.eventsSize });
    const input = { id: options.id };
    // Inspection is opt-in: with no observer the system does no inspection work.
    this.actor =
      options.inspect === undefined
        ? createActor(poolMachine, { input })
        : createActor(poolMachine, { input, inspect: options.inspect });
    // Stopping a peer must not scan every other peer's timers (see indexScheduler).
    indexScheduler(this.actor.system);
    // A root actor in error with no error observer throws an uncaught exception.
    this.actor.subscribe({ error: (error) => this.#logger.error({ err: error }, 'pool actor failed') });
    this.actor.start();
  }

  get inbox(): PoolInbox {
    return this.#inbox;
  }

  get events(): AsyncIterable<PoolEvent> {
    return this.#events;
  }

  connect(url: string, options?: ConnectOptions): string {
    const id = normalizeUrl(url);
    this.#assertOpen('connect');
    if (this.#registry.has(id)) throw new PeerExistsError(redactUrl(id));
    const connection = options === undefined ? this.#options.connection : resolveConnectOptions(this.#options.connection, options);
    const label = redactUrl(id);
    const logger = this.#logger.child({ peer: label });
    const worker = this.#createWorker(id, label, logger);
    const entry: PeerEntry = { id, label, worker, drops: 0 };
    this.#registry.set(id, entry);
    this.#live.add(entry);
    this.actor.send({ type: 'pool.register', id: label });
    const plugin = this.#plugin(entry, connection, logger);
    // Started after connect() returns, so even a dialer that fails at once
    // reports its dial_failed to a caller that already holds the id.
    queueMicrotask(() => void this.#runWorker(entry, plugin));
    logger.debug('registered');
    return id;
  }

  send(id: string, data: string | Uint8Array | ArrayBuffer): void {
    this.#assertOpen('send');
    // Fast path: callers normally pass back the id connect() returned.
    const entry = this.#registry.get(id) ?? this.#registry.get(normalizeUrl(id));
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(id));
    if (!isPayload(data)) throw new InvalidPayloadError(entry.label, data);
    entry.worker.send(data);
    this.#totalSent += 1;
  }

  remove(id: string): void {
    const key = normalizeUrl(id);
    this.#assertOpen('remove');
    const entry = this.#registry.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    this.#registry.delete(key);
    this.#stopWorker(entry);
  }

  close(): Promise<void> {
    // Closing from inside a factory would let connect() register a worker nobody stops.
    this.#rejectReentry('close');
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  peers(): string[] {
    this.#noteReentry();
    return this.#closing === undefined ? [...this.#registry.keys()] : [];
  }

  stats(): PoolStats {
    this.#noteReentry();
    const peers: PeerStats[] = [];
    for (const entry of this.#registry.values()) peers.push(this.#peerStatsOf(entry));
    return {
      peerCount: peers.length,
      inboxDepth: this.#inbox.depth,
      eventsDepth: this.#events.depth,
      totalReceived: this.#inbox.received - this.#inbox.dropped,
      totalSent: this.#totalSent,
      inboxDropped: this.#inbox.dropped,
      eventsDropped: this.#events.dropped,
      peers
    };
  }

  peerStats(id: string): PeerStats {
    this.#noteReentry();
    const key = normalizeUrl(id);
    const entry = this.#registry.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    return this.#peerStatsOf(entry);
  }

  #assertOpen(operation: string): void {
    this.#rejectReentry(operation);
    if (this.#closing !== undefined) throw new PoolClosedError(this.id, operation);
  }

  #rejectReentry(operation: string): void {
    if (this.#inFactory) {
      this.#reentered = true;
      throw new FactoryError('a peer', `called pool.${operation}() while the pool was creating a worker`);
    }
  }

  // Read-only methods do not throw here (stats() never throws), but the factory is still rejected.
  #noteReentry(): void {
    if (this.#inFactory) this.#reentered = true;
  }

  #createWorker(id: string, label: string, logger: Logger): Worker {
    const factory = this.#options.workerFactory ?? defaultWorkerFactory;
    let worker: unknown;
    this.#inFactory = true;
    this.#reentered = false;
    try {
      worker = factory({ signal: this.#abort.signal }, id, logger);
    } finally {
      this.#inFactory = false;
    }
    if (this.#reentered) throw new FactoryError(label, 'called a pool method');
    if (typeof (worker as PromiseLike<unknown> | null)?.then === 'function') {
      // Keep a rejected promise from surfacing as an unhandled rejection.
      Promise.resolve(worker).catch(() => {});
      throw new FactoryError(label, 'returned a Promise');
    }
    if (!isWorker(worker)) throw new FactoryError(label, 'did not return a Worker (start, stop, send and stats are required)');
    return worker;
  }

  #plugin(entry: PeerEntry, options: ConnectionOptions, logger: Logger): PoolPlugin {
    return {
      poolId: this.id,
      inbox: this.#inbox,
      events: { write: (event) => this.#writeEvent(entry, event) },
      dialer: options.dialer,
      options,
      logger,
      host: this.actor
    };
  }

  /** Runs the worker to its end, then tells the pool machine (which counts it down, and reports a rejection). */
  async #runWorker(entry: PeerEntry, plugin: PoolPlugin): Promise<void> {
    let failure: { error: unknown } | undefined;
    try {
      await entry.worker.start(plugin);
    } catch (error) {
      this.#logger.error({ peer: entry.label, error: redactUrl(errorText(error)) }, 'worker start() rejected');
      failure = { error };
    }
    this.#live.delete(entry);
    if (this.#registry.get(entry.id) === entry) this.#registry.delete(entry.id);
    this.actor.send({ type: 'peer.finished', id: entry.label, ...failure });
  }

  #writeEvent(entry: PeerEntry, event: PoolEvent): void {
    if (event.kind === 'retired' && this.#registry.get(entry.id) === entry) this.#registry.delete(entry.id);
    this.#events.write(event);
    if (this.actor.getSnapshot().status === 'active') {
      const { kind, ...rest } = event;
      this.actor.send({ type: 'peer.event', event: { type: kind, ...rest } as WorkerEmitted });
    }
  }

  #stopWorker(entry: PeerEntry): void {
    try {
      entry.worker.stop();
    } catch (error) {
      this.#logger.error({ peer: entry.label, error: redactUrl(errorText(error)) }, 'worker stop() threw');
    }
  }

  async #shutdown(): Promise<void> {
    this.actor.send({ type: 'pool.close' });
    this.#logger.info({ peers: this.#registry.size }, 'closing');
    for (const entry of this.#live) this.#stopWorker(entry);
    this.#abort.abort();
    // The pool machine counts every worker from registration until its
    // start() has settled, so this also waits for removed peers still closing.
    await waitFor(this.actor, (snapshot) => snapshot.context.live === 0);
    this.#registry.clear();
    this.#inbox.end();
    this.#events.end();
    this.actor.send({ type: 'pool.closed' });
    this.#logger.info('closed');
  }

  #countDrop(id: string): void {
    const entry = this.#registry.get(id);
    if (entry !== undefined) entry.drops += 1;
  }

  #peerStatsOf(entry: PeerEntry): PeerStats {
    let stats: WorkerStats;
    try {
      stats = entry.worker.stats();
    } catch {
      stats = EMPTY_STATS;
    }
    return { ...stats, id: entry.id, drops: entry.drops };
  }
}

/**
 * Creates a pool. Options are validated up front.
 *
 * @throws InvalidOptionError / InvalidPoolIdError on a bad option.
 * @example
 * ```ts
 * const pool = createPool({ id: 'relays' });
 * const id = pool.connect('wss://relay.example.com/');
 * for await (const { data } of pool.inbox) console.log(id, data);
 * ```
 */
export function createPool(options?: PoolOptions): Pool {
  return new HoneybeePool(resolvePoolOptions(options, wsDialer));
}
