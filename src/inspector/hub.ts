import type { InspectionEvent, Observer } from 'xstate';
import { createPeerNamer, type PeerNamer } from './peer-name.ts';
import { contextName, createTranslator, sanitizeSnapshot, type RefLike } from './sanitize.ts';
import { StatsDeltas, TRAFFIC_ROWS_PER_SECOND, type WatchablePool } from './stats.ts';
import type {
  WireActorEvent,
  WireActorRows,
  WireEvents,
  WireHistory,
  WireLastEvents,
  WireLifecycle,
  WireLifecycleEvent,
  WireMessage,
  WireSnapshotRows,
  WireStats
} from './wire.ts';

/** Receives batches: each one a JSON array of wire messages. */
export type Sink = (batch: string) => void;

/** How the hub batches and what it remembers for late viewers. */
export interface HubOptions {
  /** Snapshots of one actor are sent at most once per this interval (latest wins). */
  throttleMs: number;
  /** Timeline events replayed to a new viewer, and finished actors kept in the tree. */
  maxEvents: number;
  /** How often watched pools' counters are sent, up to 2 500 peers; more peers stretch it in proportion. */
  statsIntervalMs: number;
  /** Lifecycle events kept per peer (its own history, for a page opened late). @default 20 */
  peerHistory?: number;
}

interface ActorEntry {
  announced: WireActorEvent;
  ref: RefLike;
  rootId: string;
  latest: unknown;
  eventType: string;
  finished: boolean;
  /** The JSON of the snapshot last sent, so an unchanged one is not sent again. */
  sentSnapshot: string;
}

// Past this many unsent messages a viewer is resynchronised from the replay buffer instead.
const MAX_QUEUE = 20_000;
// Peers whose own history is kept; past it the peer whose last event is oldest is forgotten.
const MAX_PEERS_WITH_HISTORY = 100_000;
// Beyond this many peers in a pool, its counters are read less often (pool.stats() walks every peer).
const PEERS_PER_STATS_INTERVAL = 2_500;

/** 0 for a root, 1 for a root's child (a pool's worker), 2 for anything deeper. */
function depthOf(ref: RefLike): number {
  if (ref._parent === undefined) return 0;
  return ref._parent._parent === undefined ? 1 : 2;
}

const historyKey = (sessionId: string, peer: string): string => `${sessionId}\n${peer}`;

/** `[root, event]` pairs as `@honeybee.events` messages, one per run of the same root. */
function groupEvents(pairs: ReadonlyArray<[string, WireLifecycle]>): WireEvents[] {
  const messages: WireEvents[] = [];
  for (const [sessionId, event] of pairs) {
    const last = messages.at(-1);
    if (last?.sessionId === sessionId) last.events.push(event);
    else messages.push({ type: '@honeybee.events', sessionId, events: [event] });
  }
  return messages;
}

/**
 * The inspector's core, independent of any transport: an XState inspection
 * observer that keeps the current actor tree (roots and their children: the
 * pools and their workers), each peer's recent lifecycle events, the recent
 * timeline and the pools' counters, and pushes sanitised batches to its sinks.
 *
 * Snapshots are stored as references and sanitised only when sent, so with no
 * viewer attached an inspection event costs a map write. Snapshots that did
 * not change what the page shows are not sent again; XState's events and
 * microsteps are not sent at all.
 */
export class InspectionHub {
  readonly inspect: Observer<InspectionEvent>;
  readonly #options: Required<HubOptions>;
  readonly #translator = createTranslator();
  /** Peer names for the page: redacted, with a short hash when masking changed the id. */
  readonly #name: PeerNamer = createPeerNamer();
  readonly #actors = new Map<string, ActorEntry>();
  readonly #finished: string[] = [];
  /** The recent lifecycle events of every root, oldest first: `[root sessionId, event]`. */
  readonly #timeline: Array<[string, WireLifecycle]> = [];
  /** Per root session and peer name, that peer's last lifecycle events, oldest first; least recently changed first. */
  readonly #history = new Map<string, WireLifecycle[]>();
  readonly #pools = new Map<WatchablePool, StatsDeltas>();
  readonly #sinks = new Set<Sink>();
  #queue: WireMessage[] = [];
  /** Lifecycle events not sent yet, per root session. */
  #events = new Map<string, WireLifecycle[]>();
  #unsent = 0;
  #resync = false;
  readonly #pending = new Map<string, ActorEntry>();
  #flushTimer: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #statsDelay = 0;
  #closed = false;

  constructor(options: HubOptions) {
    this.#options = { peerHistory: 20, ...options };
    this.inspect = { next: (event) => this.#receive(event) };
  }

  /** Adds a viewer: it gets the replay at once, then every batch. Returns the detach function. */
  attach(sink: Sink): () => void {
    if (this.#closed) return () => {};
    this.#sinks.add(sink);
    this.#updateStatsTimer();
    sink(JSON.stringify(this.replay()));
    return () => {
      this.#sinks.delete(sink);
      this.#updateStatsTimer();
    };
  }

  /** Sends `pool.stats()` deltas while a viewer is attached. */
  watch(pool: WatchablePool): () => void {
    if (this.#closed) return () => {};
    if (!this.#pools.has(pool)) this.#pools.set(pool, new StatsDeltas(pool, this.#name));
    this.#updateStatsTimer();
    return () => {
      this.#pools.delete(pool);
      this.#updateStatsTimer();
    };
  }

  /**
   * What a new viewer needs, compactly: a replay marker, the roots as
   * `@xstate.actor`, every other actor as one row of `@honeybee.actors`, each
   * peer's last lifecycle event (`@honeybee.last`), the recent timeline, and
   * every watched pool's full counters.
   */
  replay(): WireMessage[] {
    const messages: WireMessage[] = [{ type: '@honeybee.replay' }];
    const rows: WireActorRows = { type: '@honeybee.actors', actors: [] };
    for (const entry of this.#actors.values()) {
      const snapshot = entry.latest === undefined ? entry.announced.snapshot : sanitizeSnapshot(entry.latest);
      const { parentId, sessionId, name } = entry.announced;
      // What this page now has; a snapshot still waiting goes to every page at the next flush anyway.
      if (!this.#pending.has(sessionId)) entry.sentSnapshot = JSON.stringify(snapshot);
      if (parentId === undefined) messages.push({ ...entry.announced, snapshot });
      else rows.actors.push([sessionId, parentId, name, snapshot]);
    }
    messages.push(rows);
    const last = new Map<string, WireLastEvents>();
    for (const [key, events] of this.#history) {
      const sessionId = key.slice(0, key.indexOf('\n'));
      let message = last.get(sessionId);
      if (message === undefined) last.set(sessionId, (message = { type: '@honeybee.last', sessionId, events: [] }));
      const latest = events.at(-1);
      if (latest !== undefined) message.events.push(latest);
    }
    messages.push(...last.values(), ...groupEvents(this.#timeline));
    for (const pool of this.#pools.keys()) {
      const full = this.#fullStats(pool);
      if (full !== undefined) messages.push(full);
    }
    return messages;
  }

  /** One peer's own recent lifecycle events, oldest first (what a page asks for when a peer is selected). */
  history(sessionId: string, id: string): WireHistory {
    return { type: '@honeybee.history', sessionId, id, events: [...(this.#history.get(historyKey(sessionId, id)) ?? [])] };
  }

  /**
   * Sends what is still waiting for the throttle (the last snapshots, a final
   * summary of each watched pool), then stops timers and forgets viewers and
   * pools; later inspection events are ignored. So a page shows the pool
   * closed and its workers stopped when `inspector.close()` follows
   * `pool.close()`.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#sinks.size > 0) {
      for (const pool of this.#pools.keys()) this.#enqueue(this.#fullStats(pool));
      clearTimeout(this.#flushTimer);
      this.#flush();
    }
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#statsTimer);
    this.#statsTimer = undefined;
    this.#sinks.clear();
    this.#pools.clear();
    this.#actors.clear();
    this.#history.clear();
    this.#pending.clear();
    this.#events.clear();
    this.#queue = [];
  }

  #receive(event: InspectionEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case '@xstate.actor':
        // The page shows pools and their workers; a worker's own children (socket, hook) are its detail.
        if (depthOf(event.actorRef as unknown as RefLike) < 2) this.#register(event);
        return;
      case '@xstate.snapshot':
        if (depthOf(event.actorRef as unknown as RefLike) < 2) this.#snapshot(event);
        return;
      case '@xstate.action': {
        const lifecycle = this.#translator.translate(event) as WireLifecycleEvent | undefined;
        if (lifecycle === undefined) return;
        const { sessionId } = lifecycle;
        const emitted = lifecycle.action.params.event;
        // The same name as the peer's worker and counters (the translator only redacts the id).
        emitted.id = this.#name(String((event.action.params as { event: { id: unknown } }).event.id));
        this.#timeline.push([sessionId, emitted]);
        if (this.#timeline.length > this.#options.maxEvents) this.#timeline.shift();
        this.#remember(sessionId, emitted);
        if (this.#sinks.size === 0) return;
        const waiting = this.#events.get(sessionId);
        if (waiting === undefined) this.#events.set(sessionId, [emitted]);
        else waiting.push(emitted);
        this.#count();
        return;
      }
      default:
        // '@xstate.event': XState's internal events; the page has no use for them.
        return;
    }
  }

  #remember(sessionId: string, event: WireLifecycle): void {
    const key = historyKey(sessionId, event.id);
    const events = this.#history.get(key) ?? [];
    // Re-inserted, so the map's order is least recently changed first.
    this.#history.delete(key);
    events.push(event);
    if (events.length > this.#options.peerHistory) events.shift();
    this.#history.set(key, events);
    if (this.#history.size > MAX_PEERS_WITH_HISTORY) {
      const oldest = this.#history.keys().next().value;
      if (oldest !== undefined) this.#history.delete(oldest);
    }
  }

  #register(event: InspectionEvent): ActorEntry {
    let announced = this.#translator.translate(event) as WireActorEvent;
    // A pool's worker is labelled with its redacted id; its full id, the system id, gives the page's name.
    const systemId = (event.actorRef as unknown as { options?: { systemId?: unknown } }).options?.systemId;
    if (announced.parentId !== undefined && typeof systemId === 'string') announced = { ...announced, name: this.#name(systemId) };
    const entry: ActorEntry = {
      announced,
      ref: event.actorRef as unknown as RefLike,
      rootId: event.rootId,
      latest: undefined,
      eventType: '',
      finished: false,
      sentSnapshot: JSON.stringify(announced.snapshot)
    };
    this.#actors.set(announced.sessionId, entry);
    this.#enqueue(announced);
    return entry;
  }

  #snapshot(event: Extract<InspectionEvent, { type: '@xstate.snapshot' }>): void {
    const ref = event.actorRef as unknown as RefLike;
    const sessionId = this.#translator.sessionOf(ref);
    const entry = this.#actors.get(sessionId) ?? this.#register({ type: '@xstate.actor', actorRef: event.actorRef, rootId: event.rootId });
    entry.latest = event.snapshot;
    entry.eventType = String(event.event.type);
    if (entry.announced.parentId === undefined) this.#nameRoot(entry);
    if (!entry.finished && event.snapshot.status !== 'active') this.#finish(sessionId, entry);
    if (this.#sinks.size === 0) return;
    this.#pending.set(sessionId, entry);
    this.#schedule();
  }

  // A root is announced before its context exists; once it does, its name becomes the pool id.
  #nameRoot(entry: ActorEntry): void {
    const name = contextName(entry.latest);
    if (name === undefined || name === entry.announced.name) return;
    entry.announced = { ...entry.announced, name };
    this.#enqueue(entry.announced);
  }

  // An actor stopped by its parent is gone for good: forget it now, which also keeps churn from
  // tenuring garbage. Actors that finished by themselves (a stopped worker, a removed peer) stay
  // visible for a while; the oldest go past `maxEvents`.
  #finish(sessionId: string, entry: ActorEntry): void {
    entry.finished = true;
    if ((entry.latest as { status?: unknown }).status === 'stopped') {
      this.#actors.delete(sessionId);
      return;
    }
    this.#finished.push(sessionId);
    while (this.#finished.length > this.#options.maxEvents) {
      const oldest = this.#finished.shift();
      if (oldest !== undefined) this.#actors.delete(oldest);
    }
  }

  #enqueue(message: WireMessage | undefined): void {
    if (message === undefined || this.#sinks.size === 0) return;
    if (!this.#resync) this.#queue.push(message);
    this.#count();
  }

  // Counts an unsent message; past MAX_QUEUE the next flush sends a replay instead.
  #count(): void {
    if (++this.#unsent >= MAX_QUEUE && !this.#resync) {
      this.#queue = [];
      this.#events.clear();
      this.#resync = true;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => this.#flush(), this.#options.throttleMs);
    this.#flushTimer.unref();
  }

  #flush(): void {
    this.#flushTimer = undefined;
    const batch = this.#resync ? this.replay() : this.#queue;
    if (!this.#resync) {
      const rows: WireSnapshotRows = { type: '@honeybee.snapshots', snapshots: [] };
      for (const [sessionId, entry] of this.#pending) {
        const snapshot = sanitizeSnapshot(entry.latest);
        const text = JSON.stringify(snapshot);
        // A heartbeat timer or a self-transition changes nothing the page shows.
        if (text === entry.sentSnapshot) continue;
        entry.sentSnapshot = text;
        if (entry.announced.parentId === undefined) batch.push(this.#translator.snapshotEvent(entry.ref, entry.rootId, entry.latest, entry.eventType));
        else rows.snapshots.push([sessionId, snapshot]);
      }
      if (rows.snapshots.length > 0) batch.push(rows);
      for (const [sessionId, events] of this.#events) batch.push({ type: '@honeybee.events', sessionId, events });
    }
    this.#queue = [];
    this.#events = new Map();
    this.#unsent = 0;
    this.#resync = false;
    this.#pending.clear();
    if (batch.length === 0) return;
    const text = JSON.stringify(batch);
    for (const sink of this.#sinks) sink(text);
  }

  #fullStats(pool: WatchablePool): WireStats | undefined {
    return this.#pools.get(pool)?.full();
  }

  #statsTick(): void {
    this.#statsTimer = undefined;
    let interval = this.#options.statsIntervalMs;
    const budget = Math.ceil((TRAFFIC_ROWS_PER_SECOND * this.#statsDelay) / 1000);
    for (const [pool, deltas] of this.#pools) {
      const next = deltas.next(budget);
      if (next !== undefined) {
        this.#enqueue(next.message);
        interval = Math.max(interval, (this.#options.statsIntervalMs * next.peerCount) / PEERS_PER_STATS_INTERVAL);
      }
      // A closed pool gets one last summary, then the inspector lets go of it.
      if (pool.actor !== undefined && pool.actor.getSnapshot().status !== 'active') this.#pools.delete(pool);
    }
    this.#updateStatsTimer(interval);
  }

  #updateStatsTimer(interval = this.#options.statsIntervalMs): void {
    const wanted = this.#pools.size > 0 && this.#sinks.size > 0 && !this.#closed;
    if (wanted && this.#statsTimer === undefined) {
      this.#statsDelay = interval;
      this.#statsTimer = setTimeout(() => this.#statsTick(), interval);
      this.#statsTimer.unref();
    } else if (!wanted && this.#statsTimer !== undefined) {
      clearTimeout(this.#statsTimer);
      this.#statsTimer = undefined;
    }
  }
}
