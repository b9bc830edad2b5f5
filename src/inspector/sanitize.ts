import type { InspectionEvent } from 'xstate';
import { redactUrl } from '../normalize-url.ts';
import {
  LIFECYCLE_TYPES,
  SAFE_CONTEXT_KEYS,
  WIRE_VERSION,
  type WireActorEvent,
  type WireEventEvent,
  type WireLifecycle,
  type WireLifecycleEvent,
  type WireSnapshot,
  type WireSnapshotEvent
} from './wire.ts';

/** The parts of an actor ref the translator reads; XState's public type hides `_parent` and `system`. */
export interface RefLike {
  sessionId: string;
  id?: unknown;
  _parent?: RefLike;
  system?: object;
  logic?: { config?: { id?: unknown } };
  getSnapshot(): unknown;
}

// Anything URL-shaped inside free text (an error message, a close reason) gets its credentials masked.
const URL_IN_TEXT = /[a-z][a-z\d+.-]*:\/\/[^\s"'<>]+/gi;

/** Masks `user:password@` in every URL inside `text` and bounds its length. */
export function scrubText(text: unknown, max = 200): string {
  const value = typeof text === 'string' ? text : String(text);
  return value.replace(URL_IN_TEXT, (url) => redactUrl(url)).slice(0, max);
}

/** Copies a state value: only keys and string leaves, a few levels deep. */
function copyValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || depth > 8) return undefined;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) copy[key] = copyValue(inner, depth + 1);
  return copy;
}

/**
 * Reduces a snapshot to status, state value, tags and the whitelisted context
 * counters. Context objects (the link, timings, ids), outputs and errors never
 * pass.
 */
export function sanitizeSnapshot(snapshot: unknown): WireSnapshot {
  const source = (snapshot ?? {}) as { status?: unknown; value?: unknown; tags?: unknown; context?: unknown };
  const result: WireSnapshot = { status: typeof source.status === 'string' ? source.status : 'active' };
  const value = copyValue(source.value);
  if (value !== undefined) result.value = value;
  if (source.tags instanceof Set) result.tags = [...source.tags].filter((tag): tag is string => typeof tag === 'string').sort();
  if (typeof source.context === 'object' && source.context !== null) {
    const context: Record<string, number | boolean | null> = {};
    for (const key of SAFE_CONTEXT_KEYS) {
      const item = (source.context as Record<string, unknown>)[key];
      if (typeof item === 'number' || typeof item === 'boolean' || item === null) context[key] = item;
    }
    if (Object.keys(context).length > 0) result.context = context;
  }
  return result;
}

/** Keeps a lifecycle event's safe fields; `undefined` for anything that is not one. */
export function sanitizeLifecycle(event: unknown): WireLifecycle | undefined {
  const source = event as Record<string, unknown> | null;
  if (typeof source !== 'object' || source === null || !LIFECYCLE_TYPES.includes(source.type as string)) return undefined;
  const result: WireLifecycle = {
    type: source.type as string,
    id: redactUrl(String(source.id)),
    at: typeof source.at === 'number' ? source.at : Date.now()
  };
  for (const key of ['code', 'attempt', 'attempts'] as const) {
    if (typeof source[key] === 'number') result[key] = source[key];
  }
  if (typeof source.cause === 'string') result.cause = source.cause.slice(0, 40);
  if (source.reason !== undefined) result.reason = scrubText(source.reason, 123);
  if (source.error !== undefined) result.error = scrubText(source.error);
  return result;
}

/** Turns XState inspection events into sanitised wire events; one per inspector. */
export interface Translator {
  /** The wire event for an inspection event, or `undefined` when it is dropped. */
  translate(event: InspectionEvent): WireActorEvent | WireEventEvent | WireSnapshotEvent | WireLifecycleEvent | undefined;
  /** The wire event for one snapshot; the hub calls it late, for the latest snapshot only. */
  snapshotEvent(ref: RefLike, rootId: string, snapshot: unknown, eventType: string): WireSnapshotEvent;
  /** The wire session id of an actor (unique across the pools this inspector serves). */
  sessionOf(ref: RefLike): string;
}

/** A root's display name from its context `id` (the pool id), credentials redacted; `undefined` if it has none. */
export function contextName(snapshot: unknown): string | undefined {
  const contextId = (snapshot as { context?: { id?: unknown } } | undefined)?.context?.id;
  return typeof contextId === 'string' ? redactUrl(contextId) : undefined;
}

/** The name shown for an actor: its id, else its context id, else its machine id; credentials redacted. */
function nameOf(ref: RefLike, snapshot: unknown): string {
  if (typeof ref.id === 'string' && ref.id !== ref.sessionId) return redactUrl(ref.id);
  const machineId = ref.logic?.config?.id;
  return contextName(snapshot) ?? (typeof machineId === 'string' ? machineId : 'actor');
}

function snapshotOf(ref: RefLike): unknown {
  try {
    return ref.getSnapshot();
  } catch {
    // An actor announced before its first snapshot exists.
    return undefined;
  }
}

/**
 * Session ids are per actor system (every pool starts at `x:0`), so each
 * system gets a prefix: `s1:x:0`, `s2:x:0`… Returns the id function and the
 * common fields of a wire event.
 */
function createIds(): { sessionOf(ref: RefLike): string; base(ref: RefLike, rootId: string): Omit<WireSnapshotEvent, 'type' | 'snapshot' | 'event'> } {
  const systems = new WeakMap<object, string>();
  let systemCount = 0;
  let sequence = 0;
  const prefixOf = (ref: RefLike): string => {
    const system = ref.system ?? ref;
    let prefix = systems.get(system);
    if (prefix === undefined) {
      prefix = `s${++systemCount}`;
      systems.set(system, prefix);
    }
    return prefix;
  };
  const sessionOf = (ref: RefLike): string => `${prefixOf(ref)}:${ref.sessionId}`;
  const base = (ref: RefLike, rootId: string) => ({
    sessionId: sessionOf(ref),
    rootId: `${prefixOf(ref)}:${rootId}`,
    createdAt: String(Date.now()),
    _version: WIRE_VERSION,
    id: String(++sequence)
  });
  return { sessionOf, base };
}

/** Creates a translator; one per inspector, so ids stay unique across the pools it serves. */
export function createTranslator(): Translator {
  const { sessionOf, base } = createIds();
  const snapshotEvent: Translator['snapshotEvent'] = (ref, rootId, snapshot, eventType) => ({
    type: '@xstate.snapshot',
    ...base(ref, rootId),
    snapshot: sanitizeSnapshot(snapshot),
    event: { type: eventType }
  });
  const translate: Translator['translate'] = (event) => {
    const ref = event.actorRef as unknown as RefLike;
    switch (event.type) {
      case '@xstate.actor': {
        const snapshot = snapshotOf(ref);
        const parentId = ref._parent === undefined ? undefined : sessionOf(ref._parent);
        const name = nameOf(ref, snapshot);
        return { type: '@xstate.actor', ...base(ref, event.rootId), name, parentId, snapshot: sanitizeSnapshot(snapshot), definition: undefined };
      }
      case '@xstate.event': {
        const source = event.sourceRef as unknown as RefLike | undefined;
        const sourceId = source === undefined ? undefined : sessionOf(source);
        return { type: '@xstate.event', ...base(ref, event.rootId), sourceId, event: { type: String(event.event.type) } };
      }
      case '@xstate.snapshot':
        return snapshotEvent(ref, event.rootId, event.snapshot, String(event.event.type));
      case '@xstate.action':
        return lifecycleOf(event.action, ref, () => base(ref, event.rootId));
      default:
        // Microsteps and other actions are internal detail; dropping them keeps the wire small.
        return undefined;
    }
  };
  return { translate, snapshotEvent, sessionOf };
}

/**
 * Lifecycle emits are kept from root actors only: the pool re-emits every
 * worker's events (custom workers' too), so each appears once.
 */
function lifecycleOf(action: { type: string; params: unknown }, ref: RefLike, base: () => Omit<WireLifecycleEvent, 'type' | 'action'>): WireLifecycleEvent | undefined {
  if (action.type !== 'xstate.emit' || ref._parent !== undefined) return undefined;
  const lifecycle = sanitizeLifecycle((action.params as { event?: unknown } | undefined)?.event);
  if (lifecycle === undefined) return undefined;
  return { type: '@xstate.action', ...base(), action: { type: 'xstate.emit', params: { event: lifecycle } } };
}
