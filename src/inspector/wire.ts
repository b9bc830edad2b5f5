import { LIFECYCLE_KINDS } from '../../machines/worker-events.ts';
import type { PoolStats } from '../types.ts';

/**
 * What the inspector sends to its page: the Stately inspection event shape
 * (`@statelyai/inspect`), sanitised, plus two additions of its own — the
 * lifecycle emits that drive the timeline and the pool counters.
 */

/** The `@statelyai/inspect` protocol version whose event shape this follows. */
export const WIRE_VERSION = '0.7.2';

/** Context fields that may leave the process: plain counters and timestamps, nothing else. */
export const SAFE_CONTEXT_KEYS: readonly string[] = ['attempt', 'connections', 'dialFailures', 'connectedAt', 'live'];

/** The worker lifecycle events shown on the timeline. */
export const LIFECYCLE_TYPES: readonly string[] = LIFECYCLE_KINDS;

/** A snapshot reduced to what the page needs: no context objects, no output, no error text. */
export interface WireSnapshot {
  status: string;
  value?: unknown;
  tags?: string[];
  context?: Record<string, number | boolean | null>;
}

/** Fields every Stately-shaped event carries. Ids are made unique across the pools one inspector serves. */
interface WireBase {
  sessionId: string;
  rootId: string;
  /** Epoch milliseconds, as a string (the Stately format). */
  createdAt: string;
  _version: string;
  /** A sequence number, unique per inspector. */
  id: string;
}

/** An actor was created. `name` is its id with any URL credentials redacted. */
export interface WireActorEvent extends WireBase {
  type: '@xstate.actor';
  name: string;
  parentId: string | undefined;
  snapshot: WireSnapshot;
  definition: string | undefined;
}

/** An actor received an event; only the event type is kept. */
export interface WireEventEvent extends WireBase {
  type: '@xstate.event';
  sourceId: string | undefined;
  event: { type: string };
}

/** An actor's new snapshot (throttled: the latest per actor and interval). */
export interface WireSnapshotEvent extends WireBase {
  type: '@xstate.snapshot';
  snapshot: WireSnapshot;
  event: { type: string };
}

/** A lifecycle event with its safe fields: peer id (redacted), time, and the close or failure details. */
export interface WireLifecycle {
  type: string;
  id: string;
  at: number;
  code?: number;
  reason?: string;
  cause?: string;
  attempt?: number;
  attempts?: number;
  error?: string;
}

/** A lifecycle `xstate.emit` of a root actor (the pool re-emits every worker's), in XState's action shape. */
export interface WireLifecycleEvent extends WireBase {
  type: '@xstate.action';
  action: { type: 'xstate.emit'; params: { event: WireLifecycle } };
}

/** One peer's counters, from `pool.stats()`. */
export interface WirePeerStats {
  id: string;
  state: string;
  received: number;
  sent: number;
  restarts: number;
  dialFailures: number;
  drops: number;
  attempt: number;
  connectedSince: number | null;
  paused: boolean;
}

/**
 * A pool's counters, sent every second for each watched pool: `pool.stats()`'s
 * totals plus peers by state and paused sockets. Not part of the Stately shape.
 */
export interface WireStats extends Omit<PoolStats, 'peers'> {
  type: '@honeybee.stats';
  poolId: string;
  at: number;
  pausedSockets: number;
  peers: WirePeerStats[];
}

/** The Stately-shaped events (what `@statelyai/inspect` understands). */
export type StatelyShapedEvent = WireActorEvent | WireEventEvent | WireSnapshotEvent;

/** Everything that goes over the inspector's WebSocket, in JSON arrays (one array per batch). */
export type WireMessage = StatelyShapedEvent | WireLifecycleEvent | WireStats;
