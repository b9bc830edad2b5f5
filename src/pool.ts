import { createActor, waitFor, type Actor, type AnyActorRef } from 'xstate';
import { poolMachine } from '../machines/pool-machine.ts';
import type { WorkerEmitted } from '../machines/worker-events.ts';
import { defaultWorkerFactoryFor } from './default-worker.ts';
import {
  FactoryError,
  InvalidOptionError,
  InvalidPayloadError,
  PeerExistsError,
  PeerNotFoundError,
  PoolClosedError,
  UnsupportedError,
  errorText
} from './errors.ts';
import { EventStream } from './event-stream.ts';
import { Inbox } from './inbox.ts';
import { indexScheduler } from './indexed-scheduler.ts';
import type { Logger } from './logger.ts';
import { normalizeUrl, redactUrl } from './normalize-url.ts';
import { resolveConnectOptions, resolvePoolOptions, resolveReadyOptions, type Runtime } from './options.ts';
import { toWorkerEmitted } from './pool-event.ts';
import type { Pool } from './pool-api.ts';
import { PeerLogger } from './peer-logger.ts';
import { ReadyWaiters } from './ready-waiters.ts';
import { TimerWheel } from './timer-wheel.ts';
import type {
  BroadcastResult,
  ConnectOptions,
  ConnectionOptions,
  PeerStats,
  PoolEvent,
  PoolOptions,
  PoolEvents,
  PoolInbox,
  PoolPlugin,
  ReadyOptions,
  PoolStats,
  EventWriter,
  InboxWriter,
  ResolvedPoolOptions,
  Worker,
  WorkerStats
} from './types.ts';
import type { Transport } from './transport.ts';
import { MachineWorker } from './worker-from-machine.ts';
import { initialWorkerStats } from './worker-stats.ts';

/** What every peer of one pool shares: one object, not a copy per peer. */
interface PoolShared {
  readonly poolId: string;
  readonly inbox: InboxWriter;
  readonly host: AnyActorRef;
  readonly onEvent: (entry: PeerEntry, event: PoolEvent) => void;
}

/**
 * A registered peer (or a removed one that is still finishing). It is also
 * the {@link PoolPlugin} its worker is started with, and that plugin's
 * event writer: one object per peer for all three.
 */
class PeerEntry implements PoolPlugin, EventWriter {
  drops = 0;
  /** Pending `ready()` calls; created on the first one. */
  waiters: ReadyWaiters | undefined = undefined;
  /** True once the worker has finished (its `start()` settled). */
  done = false;
  #finished: Promise<void> | undefined = undefined;
  #markFinished: (() => void) | undefined = undefined;

  constructor(
    readonly id: string,
    readonly label: string,
    readonly worker: Worker,
    readonly options: ConnectionOptions,
    readonly logger: Logger,
    readonly shared: PoolShared
  ) {}

  get poolId(): string {
    return this.shared.poolId;
  }

  get inbox(): InboxWriter {
    return this.shared.inbox;
  }

  get host(): AnyActorRef {
    return this.shared.host;
  }

  get transport(): Transport {
    return this.options.transport;
  }

  get events(): EventWriter {
    return this;
  }

  write(event: PoolEvent): void {
    this.shared.onEvent(this, event);
  }

  /** Settles when the worker has finished; created on first use (remove(), a reconnect of the same id). */
  get finished(): Promise<void> {
    if (this.#finished === undefined) {
      this.#finished = this.done ? Promise.resolve() : new Promise<void>((resolve) => (this.#markFinished = resolve));
    }
    return this.#finished;
  }

  markFinished(): void {
    this.done = true;
    this.#markFinished?.();
  }
}

export type { Pool } from './pool-api.ts';

/** A finished worker, for the pool machine: its label, or its label and why its `start()` rejected. */
type Ended = string | { id: string; error: unknown };


const EMPTY_STATS: WorkerStats = { ...initialWorkerStats('unknown'), lastError: 'stats() threw' };

/**
 * Most workers started in one event-loop turn. Each start dials at once (a
 * socket, a request, a handshake timer): 20 000 connect() calls in one turn
 * were seconds of dialing before any reply could be read, by which time the
 * handshake timers had fired and every peer redialed, over and over. A larger
 * burst starts one slice per turn (`setImmediate`), so replies and timers
 * are served between slices.
 */
const START_SLICE = 512;

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
  // Peers gone from the registry (removed, retired) whose worker is still finishing, by id.
  readonly #finishing = new Map<string, PeerEntry>();
  readonly #abort = new AbortController();
  #totalSent = 0;
  #closing: Promise<void> | undefined;
  #inFactory = false;
  #reentered = false;
  #unwatchSignal: (() => void) | undefined;
  #warnedSocketLimit = false;
  /** Registered peers whose worker starts at the next microtask (one microtask for all of them; see START_SLICE). */
  #starting: PeerEntry[] = [];
  readonly #startAll = (): void => this.#startWorkers();
  readonly #ended = (entry: PeerEntry, failure?: { error: unknown }): void => this.#workerEnded(entry, failure);
  /** What the pool machine is told at the end of this turn (see #toMachine). */
  #reportedEvents: WorkerEmitted[] = [];
  #reportedEnds: Ended[] = [];
  readonly #flushReports = (): void => this.#sendReports();
  readonly #shared: PoolShared;

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
    // One Node timer for every delayed transition of every worker (see TimerWheel).
    const clock = new TimerWheel();
    // Inspection is opt-in: with no observer the system does no inspection work.
    this.actor =
      options.inspect === undefined
        ? createActor(poolMachine, { input, clock })
        : createActor(poolMachine, { input, clock, inspect: options.inspect });
    // Stopping a peer must not scan every other peer's timers (see indexScheduler).
    indexScheduler(this.actor.system);
    // A root actor in error with no error observer throws an uncaught exception.
    this.actor.subscribe({ error: (error) => this.#logger.error({ err: error }, 'pool actor failed') });
    this.actor.start();
    this.#shared = { poolId: this.id, inbox: this.#inbox, host: this.actor, onEvent: (entry, event) => this.#writeEvent(entry, event) };
    this.#watchSignal(options.signal);
  }

  get inbox(): PoolInbox {
    return this.#inbox;
  }

  get events(): PoolEvents {
    return this.#events;
  }

  connect(url: string, options?: ConnectOptions): string {
    const id = normalizeUrl(url);
    this.#assertOpen('connect');
    if (this.#registry.has(id)) throw new PeerExistsError(redactUrl(id));
    const connection =
      options === undefined ? this.#options.connection : resolveConnectOptions(this.#options.connection, options, this.#options);
    const label = redactUrl(id);
    const logger = new PeerLogger(this.#logger, label);
    const worker = this.#createWorker(id, label, logger, connection);
    const entry = new PeerEntry(id, label, worker, connection, logger, this.#shared);
    this.#registry.set(id, entry);
    this.#checkSocketLimit(connection);
    // Started after connect() returns, so even a transport that fails at once
    // reports its dial_failed to a caller that already holds the id. A previous
    // worker of this id still closing finishes first: one live socket per id,
    // and its actor's system id is free again.
    const previous = this.#finishing.get(id);
    if (previous !== undefined) {
      this.actor.send({ type: 'pool.register', ids: [label] });
      void previous.finished.then(() => this.#runWorker(entry));
    } else if (this.#starting.push(entry) === 1) queueMicrotask(this.#startAll);
    logger.debug('registered');
    return id;
  }

  broadcast(data: string | Uint8Array | ArrayBuffer, filter?: (id: string) => boolean): BroadcastResult {
    this.#assertOpen('broadcast');
    if (!isPayload(data)) throw new InvalidPayloadError('every peer', data);
    if (filter !== undefined && typeof filter !== 'function') throw new InvalidOptionError('filter', 'a function of the peer id', filter);
    const result: BroadcastResult = { sent: [], refused: [] };
    for (const entry of [...this.#registry.values()]) {
      try {
        if (filter !== undefined && !filter(entry.id)) continue;
        entry.worker.send(data);
        this.#totalSent += 1;
        result.sent.push(entry.id);
      } catch (error) {
        result.refused.push({ id: entry.id, error });
      }
    }
    return result;
  }

  async ready(id: string, options?: ReadyOptions): Promise<void> {
    this.#assertOpen('ready');
    const resolved = resolveReadyOptions(options);
    const entry = this.#entryOf(id);
    if (this.#peerStatsOf(entry).connected) return;
    entry.waiters ??= new ReadyWaiters(entry.label);
    await entry.waiters.wait(resolved);
  }

  reconnect(id: string): void {
    this.#assertOpen('reconnect');
    const entry = this.#entryOf(id);
    if (typeof entry.worker.reconnect !== 'function') throw new UnsupportedError(entry.label, 'reconnect');
    entry.worker.reconnect();
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

  remove(id: string): Promise<void> {
    const key = normalizeUrl(id);
    this.#assertOpen('remove');
    const entry = this.#registry.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    this.#forget(entry);
    entry.waiters?.rejectAll('removed');
    this.#stopWorker(entry);
    return entry.finished;
  }

  close(): Promise<void> {
    // Closing from inside a factory would let connect() register a worker nobody stops.
    this.#rejectReentry('close');
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** `await using pool = createPool()` closes the pool at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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

  #entryOf(id: string): PeerEntry {
    const entry = this.#registry.get(id) ?? this.#registry.get(normalizeUrl(id));
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(id));
    return entry;
  }

  // Takes a peer out of the registry; its worker may still be finishing.
  #forget(entry: PeerEntry): void {
    if (this.#registry.get(entry.id) !== entry) return;
    this.#registry.delete(entry.id);
    this.#finishing.set(entry.id, entry);
  }

  #watchSignal(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    const onAbort = (): void => void this.close();
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unwatchSignal = () => signal.removeEventListener('abort', onAbort);
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

  // A browser page cannot hold more sockets than this; the rest would fail to dial, one by one.
  #checkSocketLimit(connection: ConnectionOptions): void {
    const limit = connection.transport.socketLimit;
    if (limit === undefined || this.#warnedSocketLimit) return;
    // The pool machine counts a turn's new peers at the end of the turn; the maps are current.
    const live = this.#registry.size + this.#finishing.size;
    if (live <= limit) return;
    this.#warnedSocketLimit = true;
    this.#logger.warn(
      { peers: live, socketLimit: limit, transport: connection.transport.name },
      `more peers than the ${limit} WebSockets this runtime allows per page: the rest will fail to dial; split them across pages or workers, or move the pool to a server`
    );
  }

  #createWorker(id: string, label: string, logger: Logger, connection: ConnectionOptions): Worker {
    const factory = this.#options.workerFactory ?? defaultWorkerFactoryFor(connection.transport);
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

  /**
   * Starts the workers of the peers registered since the last call. The pool
   * machine counts them in one `pool.register` event (one transition for a
   * burst of connect() calls, not one per peer), sent before any of them can
   * report its end.
   */
  #startWorkers(all = false): void {
    const pending = this.#starting;
    if (pending.length === 0) return;
    // A burst larger than one slice starts a slice per event-loop turn (see START_SLICE).
    const batch = all || pending.length <= START_SLICE ? pending : pending.slice(0, START_SLICE);
    this.#starting = batch === pending ? [] : pending.slice(START_SLICE);
    this.actor.send({ type: 'pool.register', ids: batch.map((entry) => entry.label) });
    for (const entry of batch) this.#runWorker(entry);
    if (this.#starting.length > 0) setImmediate(this.#startAll);
  }

  /**
   * Runs the worker to its end, then tells the pool machine (which counts it
   * down, and reports a rejection). Workers of the machine kind report their
   * end through a callback: no promise chain per peer.
   */
  #runWorker(entry: PeerEntry): void {
    const worker = entry.worker;
    if (worker instanceof MachineWorker) {
      try {
        worker.run(entry, this.#ended);
      } catch (error) {
        this.#workerEnded(entry, { error });
      }
      return;
    }
    let started: Promise<void>;
    try {
      started = worker.start(entry);
    } catch (error) {
      this.#workerEnded(entry, { error });
      return;
    }
    Promise.resolve(started).then(
      () => this.#workerEnded(entry),
      (error: unknown) => this.#workerEnded(entry, { error })
    );
  }

  #workerEnded(entry: PeerEntry, failure?: { error: unknown }): void {
    if (failure !== undefined) {
      this.#logger.error({ peer: entry.label, error: redactUrl(errorText(failure.error)) }, 'worker start() rejected');
    }
    entry.markFinished();
    if (this.#registry.get(entry.id) === entry) this.#registry.delete(entry.id);
    if (this.#finishing.get(entry.id) === entry) this.#finishing.delete(entry.id);
    // A worker that ended on its own without a `retired` event leaves no one to wait for.
    entry.waiters?.rejectAll(this.#closing === undefined ? 'retired' : 'closed', ' (its worker finished)');
    this.#toMachine(failure === undefined ? entry.label : { id: entry.label, error: failure.error });
  }

  #writeEvent(entry: PeerEntry, event: PoolEvent): void {
    if (event.kind === 'retired') {
      this.#forget(entry);
      entry.waiters?.rejectAll('retired', ` after ${event.attempts} attempts`);
    } else if (event.kind === 'connected') {
      entry.waiters?.resolveAll();
    }
    this.#events.write(event);
    this.#toMachine(toWorkerEmitted(event));
  }

  /**
   * Queues what the pool machine is told about one peer (a lifecycle event,
   * a finished worker) until the synchronous code that reported it has run:
   * a microtask, so a listener on the pool actor still hears `connected`
   * before the connection's next socket event is handled. Whatever one run
   * reports (close() stopping every worker, say) reaches the machine in two
   * events, one with the lifecycle events in order and one with the ends,
   * rather than one or two per peer.
   */
  #toMachine(report: WorkerEmitted | Ended): void {
    const first = this.#reportedEvents.length + this.#reportedEnds.length === 0;
    if (typeof report === 'object' && 'type' in report) this.#reportedEvents.push(report);
    else this.#reportedEnds.push(report);
    if (first) queueMicrotask(this.#flushReports);
  }

  #sendReports(): void {
    const events = this.#reportedEvents;
    const ends = this.#reportedEnds;
    this.#reportedEvents = [];
    this.#reportedEnds = [];
    // A pool actor that has ended takes nothing more (the last reports of a closed pool).
    if (this.actor.getSnapshot().status !== 'active') return;
    if (events.length > 0) this.actor.send({ type: 'peer.events', events });
    const ids = ends.filter((end): end is string => typeof end === 'string');
    if (ids.length > 0) this.actor.send({ type: 'peer.finished', ids });
    if (ids.length === ends.length) return;
    for (const end of ends) if (typeof end !== 'string') this.actor.send({ type: 'peer.rejected', ...end });
  }

  #stopWorker(entry: PeerEntry): void {
    try {
      entry.worker.stop();
    } catch (error) {
      this.#logger.error({ peer: entry.label, error: redactUrl(errorText(error)) }, 'worker stop() threw');
    }
  }

  async #shutdown(): Promise<void> {
    this.#unwatchSignal?.();
    this.actor.send({ type: 'pool.close' });
    this.#logger.info({ peers: this.#registry.size }, 'closing');
    // Every live worker is registered or finishing (a replaced finishing entry was stopped by remove()).
    for (const live of [this.#registry, this.#finishing]) {
      for (const entry of live.values()) {
        entry.waiters?.rejectAll('closed');
        this.#stopWorker(entry);
      }
    }
    // Peers registered but not started yet: counted and ended now (their workers were told to stop).
    this.#startWorkers(true);
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
 * Creates a pool on a runtime's defaults: what the Node and web entries'
 * `createPool` run. Options are validated up front.
 *
 * @throws InvalidOptionError / InvalidPoolIdError / UnsupportedOptionError on a bad option.
 */
export function createPoolWith(runtime: Runtime, options?: PoolOptions): Pool {
  return new HoneybeePool(resolvePoolOptions(options, runtime));
}
