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

/**
 * One peer's counters from `pool.stats()`, as a row (the order of
 * {@link PEER_STATS_COLUMNS}): `[id, state, received, sent, restarts,
 * dialFailures, drops, attempt, connectedSince, paused]`. Rows keep the
 * frequent stats message small at thousands of peers.
 */
export type WirePeerStats = [
  id: string,
  state: string,
  received: number,
  sent: number,
  restarts: number,
  dialFailures: number,
  drops: number,
  attempt: number,
  connectedSince: number | null,
  paused: 0 | 1
];

/** The names of a {@link WirePeerStats} row's cells, in order. */
export const PEER_STATS_COLUMNS = ['id', 'state', 'received', 'sent', 'restarts', 'dialFailures', 'drops', 'attempt', 'connectedSince', 'paused'] as const;

/**
 * A pool's counters: `pool.stats()`'s totals plus paused sockets, and peer
 * rows. With `full: true` (a page's first message) `peers` is every peer; after
 * that only peers whose counters changed: all whose state, restarts,
 * failures, drops, attempt, connected-since or paused changed, and of those
 * whose only change is traffic (received, sent) a share that takes turns, so
 * the message stays small however many peers there are. Not part of the
 * Stately shape.
 */
export interface WireStats extends Omit<PoolStats, 'peers'> {
  type: '@honeybee.stats';
  poolId: string;
  at: number;
  pausedSockets: number;
  full: boolean;
  peers: WirePeerStats[];
}

/** Starts a replay: the page forgets what it has and takes what follows as the current state. */
export interface WireReplayStart {
  type: '@honeybee.replay';
}

/**
 * The actors below the roots in a replay, one row each: `[sessionId,
 * parentId, name, snapshot]` (the roots come as `@xstate.actor` events).
 */
export interface WireActorRows {
  type: '@honeybee.actors';
  actors: Array<[sessionId: string, parentId: string, name: string, snapshot: WireSnapshot]>;
}

/** Lifecycle events of the peers of one root (`sessionId`), oldest first: the live timeline, and the recent one in a replay. */
export interface WireEvents {
  type: '@honeybee.events';
  sessionId: string;
  events: WireLifecycle[];
}

/** The latest snapshots of workers (children of a root), one row each: what changed since the last batch. */
export interface WireSnapshotRows {
  type: '@honeybee.snapshots';
  snapshots: Array<[sessionId: string, snapshot: WireSnapshot]>;
}

/** In a replay: each peer's latest lifecycle event, for the peers of one root (`sessionId`). */
export interface WireLastEvents {
  type: '@honeybee.last';
  sessionId: string;
  events: WireLifecycle[];
}

/** The answer to a page's `{ type: 'history', sessionId, id }`: that peer's own recent lifecycle events, oldest first. */
export interface WireHistory {
  type: '@honeybee.history';
  sessionId: string;
  id: string;
  events: WireLifecycle[];
}

/** The Stately-shaped events (what `@statelyai/inspect` understands). */
export type StatelyShapedEvent = WireActorEvent | WireEventEvent | WireSnapshotEvent;

/**
 * Everything that goes over the inspector's WebSocket, in JSON arrays (one
 * array per batch). Roots (pools) come in the Stately shape (`@xstate.actor`,
 * `@xstate.snapshot`); their workers, lifecycle events and counters in compact
 * rows of the page's own. `@xstate.event` is not sent (the page does not use
 * it; {@link StatelyShapedEvent} still includes it for the Stately adapter).
 */
export type WireMessage = WireActorEvent | WireSnapshotEvent | WireEvents | WireSnapshotRows | WireStats | WireReplayStart | WireActorRows | WireLastEvents | WireHistory;
