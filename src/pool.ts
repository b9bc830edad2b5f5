import { createActor, waitFor, type Actor } from 'xstate';
import { poolMachine } from '../machines/pool-machine.ts';
import { defaultWorkerFactoryFor } from './default-worker.ts';
import {
  FactoryError,
  HoneybeeError,
  InvalidOptionError,
  InvalidPayloadError,
  PeerExistsError,
  PeerNotFoundError,
  PoolClosedError,
  UnsupportedError,
  WriteFailedError
} from './errors.ts';
import { EventStream } from './event-stream.ts';
import { Inbox } from './inbox.ts';
import type { Logger } from './logger.ts';
import { normalizeUrl, redactUrl } from './normalize-url.ts';
import { resolveConnectOptions, resolvePoolOptions, resolveReadyOptions, type Runtime } from './options.ts';
import type { Pool } from './pool-api.ts';
import { PeerRegistry, type PeerEntry } from './peer-registry.ts';
import { ReadyWaiters } from './ready-waiters.ts';
import { TimerWheel } from './timer-wheel.ts';
import type {
  BroadcastResult,
  ConnectOptions,
  ConnectionOptions,
  PeerStats,
  PoolOptions,
  PoolEvents,
  PoolInbox,
  ReadyOptions,
  PoolStats,
  ResolvedPoolOptions,
  Worker,
  WorkerStats
} from './types.ts';
import { factoryTraits } from './worker-from-machine.ts';
import { runnableWorker, type RunnableWorker } from './worker-run.ts';
import { initialWorkerStats } from './worker-stats.ts';

export type { Pool } from './pool-api.ts';

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

/**
 * The pool actor's logic: the pool machine, except that a worker actor's own
 * `xstate.done.actor.<peer>` (XState sends it to the parent as each worker
 * ends) is not handed to the machine. The machine has no transition for it;
 * looking one up costs a macrostep per peer at close, and leaves a cached
 * lookup per distinct peer id in the machine for the life of the process. The
 * pool hears each end from the worker itself (`peer.finished`). XState still
 * relays the event, so inspection sees it. Public means only: actor logic is
 * an object with `transition`, and this one's prototype is the machine.
 */
const poolLogic: typeof poolMachine = Object.create(poolMachine, {
  transition: {
    // Called on poolLogic, so the snapshots it makes name it as their machine, as the first one does.
    value(this: typeof poolMachine, ...[snapshot, event, scope]: Parameters<typeof poolMachine.transition>) {
      return event.type.startsWith('xstate.done.actor.') ? snapshot : poolMachine.transition.call(this, snapshot, event, scope);
    }
  }
});

function isPayload(data: unknown): data is string | Uint8Array | ArrayBuffer {
  return typeof data === 'string' || data instanceof Uint8Array || data instanceof ArrayBuffer;
}

/**
 * The pool façade: the public methods and their policy (what is checked,
 * refused or reported). Each peer's lifecycle bookkeeping is the
 * {@link PeerRegistry}'s; the worker itself is the factory's.
 */
class HoneybeePool implements Pool {
  readonly id: string;
  readonly actor: Actor<typeof poolMachine>;
  readonly #options: ResolvedPoolOptions;
  readonly #logger: Logger;
  readonly #inbox: Inbox;
  readonly #events: EventStream;
  readonly #peers: PeerRegistry;
  readonly #abort = new AbortController();
  #totalSent = 0;
  #closing: Promise<void> | undefined;
  #inFactory = false;
  #reentered = false;
  #unwatchSignal: (() => void) | undefined;
  #warnedSocketLimit = false;

  constructor(options: ResolvedPoolOptions, runtime: Runtime) {
    this.#options = options;
    this.id = options.id;
    this.#logger = options.logger.child({ module: 'honeybee', pool: options.id });
    this.#inbox = new Inbox({
      capacity: options.inboxSize,
      overflow: options.inboxOverflow,
      onDrop: (message) => this.#peers.countDrop(message.id)
    });
    this.#events = new EventStream({ capacity: options.eventsSize });
    const input = { id: options.id };
    // One Node timer for every delayed transition of every worker (see TimerWheel).
    const clock = new TimerWheel();
    // Inspection is opt-in: with no observer the system does no inspection work.
    this.actor = options.inspect === undefined ? createActor(poolLogic, { input, clock }) : createActor(poolLogic, { input, clock, inspect: options.inspect });
    // Stopping a peer must not scan every other peer's timers (see indexScheduler; XState's own if its canary
    // fails, or on a runtime without it: the web entry leaves it out of the bundle).
    runtime.indexScheduler?.(this.actor.system, this.#logger);
    // A root actor in error with no error observer throws an uncaught exception.
    this.actor.subscribe({ error: (error) => this.#logger.error({ err: error }, 'pool actor failed') });
    this.actor.start();
    this.#peers = new PeerRegistry({ id: this.id, actor: this.actor, inbox: this.#inbox, events: this.#events, logger: this.#logger });
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
    if (this.#peers.has(id)) throw new PeerExistsError(redactUrl(id));
    const connection = options === undefined ? this.#options.connection : resolveConnectOptions(this.#options.connection, options, this.#options);
    const label = redactUrl(id);
    // The peer's entry is its logger too: one object per peer (see PeerEntry).
    const entry = this.#peers.entry(id, label, connection);
    this.#peers.add(entry, this.#createWorker(id, label, entry, connection));
    this.#checkSocketLimit(connection);
    entry.debug('registered');
    return id;
  }

  broadcast(data: string | Uint8Array | ArrayBuffer, filter?: (id: string) => boolean): BroadcastResult {
    this.#assertOpen('broadcast');
    if (!isPayload(data)) throw new InvalidPayloadError('every peer', data);
    if (filter !== undefined && typeof filter !== 'function') throw new InvalidOptionError('filter', 'a function of the peer id', filter);
    const result: BroadcastResult = { sent: [], refused: [] };
    for (const entry of [...this.#peers.entries()]) {
      try {
        if (filter !== undefined && !filter(entry.id)) continue;
        entry.worker.send(data);
        this.#totalSent += 1;
        result.sent.push(entry.id);
      } catch (error) {
        // A worker that breaks the contract and throws something else is reported as a failed write.
        result.refused.push({ id: entry.id, error: error instanceof HoneybeeError ? error : new WriteFailedError(entry.label, error) });
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
    const entry = this.#peers.get(id) ?? this.#peers.get(normalizeUrl(id));
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(id));
    if (!isPayload(data)) throw new InvalidPayloadError(entry.label, data);
    entry.worker.send(data);
    this.#totalSent += 1;
  }

  remove(id: string): Promise<void> {
    const key = normalizeUrl(id);
    this.#assertOpen('remove');
    const entry = this.#peers.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    this.#peers.forget(entry);
    entry.waiters?.rejectAll('removed');
    this.#peers.stop(entry);
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
    return this.#closing === undefined ? this.#peers.ids() : [];
  }

  stats(): PoolStats {
    this.#noteReentry();
    const peers: PeerStats[] = [];
    for (const entry of this.#peers.entries()) peers.push(this.#peerStatsOf(entry));
    return {
      peerCount: peers.length,
      inboxDepth: this.#inbox.depth,
      eventsDepth: this.#events.depth,
      totalReceived: this.#inbox.received - this.#inbox.dropped,
      inboxHeld: this.#inbox.held,
      totalSent: this.#totalSent,
      inboxDropped: this.#inbox.dropped,
      eventsDropped: this.#events.dropped,
      peers
    };
  }

  peerStats(id: string): PeerStats {
    this.#noteReentry();
    const key = normalizeUrl(id);
    const entry = this.#peers.get(key);
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(key));
    return this.#peerStatsOf(entry);
  }

  #entryOf(id: string): PeerEntry {
    const entry = this.#peers.get(id) ?? this.#peers.get(normalizeUrl(id));
    if (entry === undefined) throw new PeerNotFoundError(redactUrl(id));
    return entry;
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
    // The pool machine counts a turn's new peers at the end of the turn; the registry is current.
    const live = this.#peers.live;
    if (live <= limit) return;
    this.#warnedSocketLimit = true;
    this.#logger.warn(
      { peers: live, socketLimit: limit, transport: connection.transport.name },
      `more peers than the ${limit} WebSockets this runtime allows per page: the rest will fail to dial; split them across pages or workers, or move the pool to a server`
    );
  }

  /**
   * Makes a peer's worker, checked, in the form the pool runs it: a worker of
   * `workerFromMachine` as it is, any other adapted here, once, so that its
   * `start()` reports its end (see {@link runnableWorker}).
   */
  #createWorker(id: string, label: string, logger: Logger, connection: ConnectionOptions): RunnableWorker {
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
    return runnableWorker(worker, factoryTraits(factory) !== undefined);
  }

  async #shutdown(): Promise<void> {
    this.#unwatchSignal?.();
    this.actor.send({ type: 'pool.close' });
    this.#logger.info({ peers: this.#peers.size }, 'closing');
    // Every live worker is registered or finishing (a replaced finishing entry was stopped by remove()).
    this.#peers.stopAll();
    // Peers registered but not started yet: counted and ended now (their workers were told to stop).
    this.#peers.startPending(true);
    this.#abort.abort();
    // The pool machine counts every worker from registration until its
    // run has ended, so this also waits for removed peers still closing.
    await waitFor(this.actor, (snapshot) => snapshot.context.live === 0);
    this.#peers.clear();
    this.#inbox.end();
    this.#events.end();
    this.actor.send({ type: 'pool.closed' });
    this.#logger.info('closed');
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
  return new HoneybeePool(resolvePoolOptions(options, runtime), runtime);
}
