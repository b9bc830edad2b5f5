import type { InspectionEvent, Observer } from 'xstate';
import { contextName, createTranslator, sanitizeSnapshot, type RefLike } from './sanitize.ts';
import { summarizePool, type WatchablePool } from './stats.ts';
import type { WireActorEvent, WireLifecycleEvent, WireMessage, WireStats } from './wire.ts';

/** Receives batches: each one a JSON array of wire messages. */
export type Sink = (batch: string) => void;

/** How the hub batches and what it remembers for late viewers. */
export interface HubOptions {
  /** Snapshots of one actor are sent at most once per this interval (latest wins). */
  throttleMs: number;
  /** Timeline events replayed to a new viewer, and finished actors kept in the tree. */
  maxEvents: number;
  /** How often watched pools' counters are sent. */
  statsIntervalMs: number;
}

interface ActorEntry {
  announced: WireActorEvent;
  ref: RefLike;
  rootId: string;
  latest: unknown;
  eventType: string;
  finished: boolean;
}

// Past this many unsent messages a viewer is resynchronised from the replay buffer instead.
const MAX_QUEUE = 20_000;

/**
 * The inspector's core, independent of any transport: an XState inspection
 * observer that keeps the current actor tree, the recent lifecycle timeline
 * and the latest pool counters, and pushes sanitised batches to its sinks.
 *
 * Snapshots are stored as references and sanitised only when sent, so with no
 * viewer attached an inspection event costs a map write. Events and
 * microsteps are not stored at all.
 */
export class InspectionHub {
  readonly inspect: Observer<InspectionEvent>;
  readonly #options: HubOptions;
  readonly #translator = createTranslator();
  readonly #actors = new Map<string, ActorEntry>();
  readonly #finished: string[] = [];
  readonly #timeline: WireLifecycleEvent[] = [];
  readonly #stats = new Map<string, WireStats>();
  readonly #pools = new Set<WatchablePool>();
  readonly #sinks = new Set<Sink>();
  #queue: WireMessage[] = [];
  #resync = false;
  readonly #pending = new Map<string, ActorEntry>();
  #flushTimer: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: HubOptions) {
    this.#options = options;
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

  /** Sends `pool.stats()` summaries every `statsIntervalMs` while a viewer is attached. */
  watch(pool: WatchablePool): () => void {
    if (this.#closed) return () => {};
    this.#pools.add(pool);
    this.#updateStatsTimer();
    return () => {
      this.#pools.delete(pool);
      this.#updateStatsTimer();
    };
  }

  /** What a new viewer needs: the actor tree with latest snapshots, the timeline, fresh counters. */
  replay(): WireMessage[] {
    const messages: WireMessage[] = [];
    for (const entry of this.#actors.values()) {
      const snapshot = entry.latest === undefined ? entry.announced.snapshot : sanitizeSnapshot(entry.latest);
      messages.push({ ...entry.announced, snapshot });
    }
    messages.push(...this.#timeline);
    for (const pool of this.#pools) this.#summarize(pool);
    messages.push(...this.#stats.values());
    return messages;
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
      for (const pool of this.#pools) this.#enqueue(this.#summarize(pool));
      clearTimeout(this.#flushTimer);
      this.#flush();
    }
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    clearInterval(this.#statsTimer);
    this.#sinks.clear();
    this.#pools.clear();
    this.#actors.clear();
    this.#pending.clear();
    this.#queue = [];
  }

  #receive(event: InspectionEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case '@xstate.actor':
        this.#register(event);
        return;
      case '@xstate.snapshot':
        this.#snapshot(event);
        return;
      case '@xstate.event':
        // Events are only worth translating for someone watching now.
        if (this.#sinks.size > 0) this.#enqueue(this.#translator.translate(event));
        return;
      case '@xstate.action': {
        const lifecycle = this.#translator.translate(event) as WireLifecycleEvent | undefined;
        if (lifecycle === undefined) return;
        this.#timeline.push(lifecycle);
        if (this.#timeline.length > this.#options.maxEvents) this.#timeline.shift();
        this.#enqueue(lifecycle);
        return;
      }
      default:
        return;
    }
  }

  #register(event: InspectionEvent): ActorEntry {
    const announced = this.#translator.translate(event) as WireActorEvent;
    const entry: ActorEntry = { announced, ref: event.actorRef as unknown as RefLike, rootId: event.rootId, latest: undefined, eventType: '', finished: false };
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

  // An actor stopped by its parent (a hook actor of a connection that ended) is gone for good: forget it
  // now, which also keeps churn from tenuring garbage. Actors that finished by themselves (a
  // stopped worker, a removed peer) stay visible for a while; the oldest go past `maxEvents`.
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
    if (this.#queue.length >= MAX_QUEUE) {
      this.#queue = [];
      this.#resync = true;
    } else if (!this.#resync) {
      this.#queue.push(message);
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
      for (const entry of this.#pending.values()) {
        batch.push(this.#translator.snapshotEvent(entry.ref, entry.rootId, entry.latest, entry.eventType));
      }
    }
    this.#queue = [];
    this.#resync = false;
    this.#pending.clear();
    if (batch.length === 0) return;
    const text = JSON.stringify(batch);
    for (const sink of this.#sinks) sink(text);
  }

  #summarize(pool: WatchablePool): WireStats | undefined {
    try {
      const summary = summarizePool(pool);
      this.#stats.set(summary.poolId, summary);
      return summary;
    } catch {
      // stats() is documented never to throw; a custom pool-like object might.
      return undefined;
    }
  }

  #statsTick(): void {
    for (const pool of this.#pools) {
      this.#enqueue(this.#summarize(pool));
      // A closed pool gets one last summary, then the inspector lets go of it.
      if (pool.actor !== undefined && pool.actor.getSnapshot().status !== 'active') this.#pools.delete(pool);
    }
    this.#updateStatsTimer();
  }

  #updateStatsTimer(): void {
    const wanted = this.#pools.size > 0 && this.#sinks.size > 0 && !this.#closed;
    if (wanted && this.#statsTimer === undefined) {
      this.#statsTimer = setInterval(() => this.#statsTick(), this.#options.statsIntervalMs);
      this.#statsTimer.unref();
    } else if (!wanted && this.#statsTimer !== undefined) {
      clearInterval(this.#statsTimer);
      this.#statsTimer = undefined;
    }
  }
}
