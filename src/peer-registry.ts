import type { Actor, AnyActorRef } from 'xstate';
import type { poolMachine } from '../machines/pool-machine.ts';
import type { WorkerEmitted } from '../machines/worker-events.ts';
import { errorText } from './errors.ts';
import type { EventStream } from './event-stream.ts';
import type { Logger } from './logger.ts';
import { redactUrl } from './normalize-url.ts';
import { PeerLogger } from './peer-logger.ts';
import { toWorkerEmitted } from './pool-event.ts';
import { ReadyWaiters } from './ready-waiters.ts';
import type { Transport } from './transport.ts';
import type { ConnectionOptions, EventWriter, InboxWriter, PoolEvent, PoolPlugin } from './types.ts';
import type { RunFailure, RunnableWorker } from './worker-run.ts';

/**
 * Most workers started in one event-loop turn. Each start dials at once (a
 * socket, a request, a handshake timer): 20 000 connect() calls in one turn
 * were seconds of dialing before any reply could be read, by which time the
 * handshake timers had fired and every peer redialed, over and over. A larger
 * burst starts one slice per turn (`setTimeout(0)`), so replies and timers
 * are served between slices.
 */
const START_SLICE = 512;

/**
 * Most lifecycle events the pool machine re-emits in one transition. XState
 * runs a transition's `emit` actions after it, one by one, at a cost per
 * action that grows with how many the transition queued: 10 000 peers
 * opening in one turn cost 2.0 µs each in that one transition, 40 000 cost
 * 6.1 µs each. In transitions of 256 it is 0.7 µs whatever the burst.
 */
const EVENTS_PER_REPORT = 256;

/** What every peer of one pool shares: one object, not a copy per peer. */
interface PoolShared {
  readonly poolId: string;
  /** The pool's logger, parent of every peer's. */
  readonly logger: Logger;
  readonly inbox: InboxWriter;
  readonly host: AnyActorRef;
  readonly registry: PeerRegistry;
}

/**
 * A registered peer (or a removed one that is still finishing). It is also
 * the peer's logger (the one its worker's factory is given), the
 * {@link PoolPlugin} its worker is started with, and that plugin's event
 * writer: one object per peer for all four. It exists before its worker
 * (the factory is given its logger), which {@link PeerRegistry.add} sets.
 */
export class PeerEntry extends PeerLogger implements PoolPlugin, EventWriter {
  /** Set once, by {@link PeerRegistry.add}, to what the factory made. */
  worker!: RunnableWorker;
  drops = 0;
  /** Pending `ready()` calls; created on the first one. */
  waiters: ReadyWaiters | undefined = undefined;
  /**
   * How far the worker's run is: running (undefined), running with someone
   * waiting on `finished` (its resolver and promise), or finished (true). One
   * field for the three, as every peer carries it.
   */
  #end: true | { promise: Promise<void>; resolve: () => void } | undefined = undefined;

  constructor(
    readonly id: string,
    label: string,
    readonly options: ConnectionOptions,
    readonly shared: PoolShared
  ) {
    super(shared.logger, label);
  }

  get logger(): Logger {
    return this;
  }

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
    this.shared.registry.eventOf(this, event);
  }

  /** True once the worker has finished (its run has ended). */
  get done(): boolean {
    return this.#end === true;
  }

  /** Settles when the worker has finished; created on first use (remove(), a reconnect of the same id). */
  get finished(): Promise<void> {
    const end = this.#end;
    if (end === true) return Promise.resolve();
    if (end !== undefined) return end.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((settle) => (resolve = settle));
    this.#end = { promise, resolve };
    return promise;
  }

  markFinished(): void {
    const end = this.#end;
    this.#end = true;
    if (end !== undefined && end !== true) end.resolve();
  }
}

/** A finished worker, for the pool machine: its label, or its label and why its run failed. */
type Ended = string | { id: string; error: unknown };

/** What the registry is built on: the pool's actor, its events stream and its logger. */
export interface RegistryHost {
  readonly id: string;
  readonly actor: Actor<typeof poolMachine>;
  readonly inbox: InboxWriter;
  readonly events: EventStream;
  readonly logger: Logger;
}

/**
 * Every peer's lifecycle bookkeeping, in one place: registration, the start
 * of its worker, its lifecycle events, its end, and what the pool machine is
 * told about each, batched per turn. The façade (`src/pool.ts`) decides what
 * to do; this keeps track of it.
 *
 * A peer is registered (`connect`) until it is removed, retires or its worker
 * ends; a removed or retired peer whose worker is still running is finishing.
 * A worker's end arrives by one route, the `onEnd` of its run.
 */
export class PeerRegistry {
  readonly #host: RegistryHost;
  readonly #shared: PoolShared;
  readonly #registered = new Map<string, PeerEntry>();
  // Peers gone from the registry (removed, retired) whose worker is still finishing, by id.
  readonly #finishing = new Map<string, PeerEntry>();
  /** Set by the pool's close(): ready() waiters of a peer that ends now are rejected as `closed`. */
  closing = false;
  /** Registered peers whose worker starts at the next microtask (one microtask for all of them; see START_SLICE). */
  #starting: PeerEntry[] = [];
  readonly #startAll = (): void => this.startPending();
  readonly #ended = (entry: PeerEntry, failure: RunFailure): void => this.#workerEnded(entry, failure);
  /** What the pool machine is told at the end of this turn (see #toMachine). */
  #reportedEvents: WorkerEmitted[] = [];
  #reportedEnds: Ended[] = [];
  /** Whether a flush of the reports is queued: at the next microtask, or at the next turn (see #toMachine). */
  #flushQueued: 'microtask' | 'turn' | undefined = undefined;
  readonly #flushReports = (): void => {
    this.#flushQueued = undefined;
    this.#sendReports();
  };

  constructor(host: RegistryHost) {
    this.#host = host;
    this.#shared = { poolId: host.id, logger: host.logger, inbox: host.inbox, host: host.actor, registry: this };
    // A worker machine that fails reaches the pool actor as XState's error event; the worker's run ends here.
    host.actor.on('peer.crashed', (event) => this.crashed(event.id));
  }

  /** Registered peers. */
  get size(): number {
    return this.#registered.size;
  }

  /** Workers that run: registered peers and finishing ones. */
  get live(): number {
    return this.#registered.size + this.#finishing.size;
  }

  has(id: string): boolean {
    return this.#registered.has(id);
  }

  get(id: string): PeerEntry | undefined {
    return this.#registered.get(id);
  }

  ids(): string[] {
    return [...this.#registered.keys()];
  }

  entries(): IterableIterator<PeerEntry> {
    return this.#registered.values();
  }

  /** The entry of a peer about to be registered: its logger is what the worker factory is given. */
  entry(id: string, label: string, options: ConnectionOptions): PeerEntry {
    return new PeerEntry(id, label, options, this.#shared);
  }

  /**
   * Registers a peer whose worker the factory has just made; its worker
   * starts after connect() returns, so even a transport that fails at once
   * reports its dial_failed to a caller that already holds the id. A previous
   * worker of this id still finishing ends first: one live socket per id, and
   * its actor's system id is free again.
   */
  add(entry: PeerEntry, worker: RunnableWorker): void {
    const id = entry.id;
    entry.worker = worker;
    this.#registered.set(id, entry);
    const previous = this.#finishing.get(id);
    if (previous !== undefined) {
      this.#host.actor.send({ type: 'pool.register', ids: [entry.label] });
      void previous.finished.then(() => this.#run(entry));
    } else if (this.#starting.push(entry) === 1) queueMicrotask(this.#startAll);
  }

  /** Takes a peer out of the registry; its worker may still be finishing. */
  forget(entry: PeerEntry): void {
    if (this.#registered.get(entry.id) !== entry) return;
    this.#registered.delete(entry.id);
    this.#finishing.set(entry.id, entry);
  }

  /** Stops a peer's worker; a stop() that throws is logged, not thrown. */
  stop(entry: PeerEntry): void {
    try {
      entry.worker.stop();
    } catch (error) {
      this.#host.logger.error({ peer: entry.label, error: redactUrl(errorText(error)) }, 'worker stop() threw');
    }
  }

  /** close(): every live worker (registered or finishing) is told to stop, and its ready() waiters rejected. */
  stopAll(): void {
    this.closing = true;
    for (const live of [this.#registered, this.#finishing]) {
      for (const entry of live.values()) {
        entry.waiters?.rejectAll('closed');
        this.stop(entry);
      }
    }
  }

  clear(): void {
    this.#registered.clear();
  }

  /** A message of peer `id` was dropped by the inbox. */
  countDrop(id: string): void {
    const entry = this.#registered.get(id);
    if (entry !== undefined) entry.drops += 1;
  }

  /**
   * The pool actor reported that a worker actor named `label` crashed: the
   * peer (registered or finishing) whose own actor it was ends its run. A
   * crash is a bug and rare, so the peers are scanned rather than indexed
   * by label (which would cost every peer a map entry).
   */
  crashed(label: string): void {
    for (const live of [this.#registered, this.#finishing]) {
      for (const entry of live.values()) if (entry.label === label && entry.worker.settleCrash?.() === true) return;
    }
  }

  /**
   * Starts the workers of the peers registered since the last call. The pool
   * machine counts them in one `pool.register` event (one transition for a
   * burst of connect() calls, not one per peer), sent before any of them can
   * report its end. `all`: every pending peer at once (the pool's close()).
   */
  startPending(all = false): void {
    const pending = this.#starting;
    if (pending.length === 0) return;
    // A burst larger than one slice starts a slice per event-loop turn (see START_SLICE).
    const batch = all || pending.length <= START_SLICE ? pending : pending.slice(0, START_SLICE);
    this.#starting = batch === pending ? [] : pending.slice(START_SLICE);
    this.#host.actor.send({ type: 'pool.register', ids: batch.map((entry) => entry.label) });
    for (const entry of batch) this.#run(entry);
    // setTimeout, not setImmediate: browsers have no setImmediate. Either way the I/O waiting runs first.
    if (this.#starting.length > 0) setTimeout(this.#startAll, 0);
  }

  /** Runs the worker to its end, then tells the pool machine (which counts it down, and reports a failure). */
  #run(entry: PeerEntry): void {
    try {
      entry.worker.run(entry, this.#ended);
    } catch (error) {
      this.#workerEnded(entry, { error });
    }
  }

  #workerEnded(entry: PeerEntry, failure: RunFailure): void {
    if (entry.done) return;
    if (failure !== undefined) {
      this.#host.logger.error({ peer: entry.label, error: redactUrl(errorText(failure.error)) }, 'worker start() rejected');
    }
    entry.markFinished();
    if (this.#registered.get(entry.id) === entry) this.#registered.delete(entry.id);
    if (this.#finishing.get(entry.id) === entry) this.#finishing.delete(entry.id);
    // A worker that ended on its own without a `retired` event leaves no one to wait for.
    entry.waiters?.rejectAll(this.closing ? 'closed' : 'retired', ' (its worker finished)');
    this.#toMachine(failure === undefined ? entry.label : { id: entry.label, error: failure.error });
  }

  /** A lifecycle event a peer's worker wrote: ready() waiters, the events stream and the pool machine hear it. */
  eventOf(entry: PeerEntry, event: PoolEvent): void {
    if (event.kind === 'retired') {
      this.forget(entry);
      entry.waiters?.rejectAll('retired', ` after ${event.attempts} attempts`);
    } else if (event.kind === 'connected') {
      entry.waiters?.resolveAll();
    }
    this.#host.events.write(event);
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
   *
   * Once the pool is closing, a worker's clean end waits for the next turn
   * (`setTimeout(0)`) instead: the peers' close replies arrive one per I/O
   * callback, and each end would otherwise cost the pool machine a
   * transition of its own, while only close() waits for them (it resolves
   * once the last is counted). Anything else reported meanwhile flushes them
   * at its microtask, ahead of that turn.
   */
  #toMachine(report: WorkerEmitted | Ended): void {
    const isEnd = typeof report === 'string';
    if (isEnd) this.#reportedEnds.push(report);
    else if ('type' in report) this.#reportedEvents.push(report);
    else this.#reportedEnds.push(report);
    if (this.#flushQueued === 'microtask') return;
    if (isEnd && this.closing) {
      if (this.#flushQueued === undefined) setTimeout(this.#flushReports, 0);
      this.#flushQueued = 'turn';
      return;
    }
    this.#flushQueued = 'microtask';
    queueMicrotask(this.#flushReports);
  }

  #sendReports(): void {
    const events = this.#reportedEvents;
    const ends = this.#reportedEnds;
    this.#reportedEvents = [];
    this.#reportedEnds = [];
    const actor = this.#host.actor;
    // A pool actor that has ended takes nothing more (the last reports of a closed pool).
    if (actor.getSnapshot().status !== 'active') return;
    for (let at = 0; at < events.length; at += EVENTS_PER_REPORT) actor.send({ type: 'peer.events', events: events.slice(at, at + EVENTS_PER_REPORT) });
    const ids = ends.filter((end): end is string => typeof end === 'string');
    if (ids.length > 0) actor.send({ type: 'peer.finished', ids });
    if (ids.length === ends.length) return;
    for (const end of ends) if (typeof end !== 'string') actor.send({ type: 'peer.rejected', ...end });
  }
}
