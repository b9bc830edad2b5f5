import type { ActorSystem, AnyActorRef, EventObject } from 'xstate';

// XState's own types for the members used here (its `ActorSystem` declares them).
type System = ActorSystem<any>;
/** One delayed event as XState persists it in `system.getSnapshot()._scheduledEvents`. */
type ScheduledEventRecord = ReturnType<System['getSnapshot']>['_scheduledEvents'][string];

/** The members of XState 5.33's actor system that this module reads or replaces, its internal ones included. */
type SystemInternals = Pick<System, 'scheduler' | '_clock' | 'getSnapshot' | 'start'> & {
  _snapshot: { _scheduledEvents: Record<string, ScheduledEventRecord> };
  _relay(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
};

/** A pending delayed event and the clock handle of its timer. */
class Pending {
  timer: unknown = undefined;

  constructor(
    readonly source: AnyActorRef,
    readonly target: AnyActorRef,
    readonly event: EventObject,
    readonly delay: number,
    readonly id: string,
    readonly startedAt: number
  ) {}

  /** The record `getSnapshot()` reports, without the timer handle. */
  toRecord(): ScheduledEventRecord {
    const { source, target, event, delay, id, startedAt } = this;
    return { source, target, event, delay, id, startedAt };
  }
}

/**
 * What one source actor has pending: the entry itself while it has a single
 * delayed event (a worker's usual case: its current state's `after` timer),
 * a map from id to entry once it has more.
 */
type Slot = Pending | Map<string, Pending>;

/**
 * Replaces the delayed-event scheduler of one XState actor system with one
 * that indexes pending events by the actor that scheduled them.
 *
 * XState 5.33's own scheduler keeps every pending delayed event of the system
 * in one plain object keyed by `${sessionId}.${id}` (plus a second object of
 * timer handles), builds that key string on every schedule and cancel, and
 * makes `cancelAll(actor)`, which every actor runs as it stops, walk the whole
 * object. A pool of N peers has ~2N pending timers and stops ~3N actors on
 * `close()`, so closing was quadratic, and the shared object churns in
 * dictionary mode while peers connect.
 *
 * Here each source actor has one slot in a `Map` keyed by the actor object:
 * `schedule` is one slot lookup, one small entry and one timer callback;
 * `cancel` and `cancelAll` touch only the source's own entries. Timers run on
 * the system's clock (`system._clock`, the pool's `TimerWheel`), and a fired
 * timer drops its entry and relays its event through `system._relay` as
 * XState does.
 *
 * Behaviour kept from XState:
 * - scheduling an id that the same source already has pending replaces the
 *   entry but does not clear the earlier timer: both events are delivered,
 *   and when the earlier timer fires it drops whatever entry holds that id,
 *   so the replacement can no longer be cancelled (XState's own quirk,
 *   reproduced so that machines behave the same with and without the pool);
 * - `cancel` of an id that is unknown or has fired does nothing;
 * - a delayed send without an id gets a random one;
 * - `system.getSnapshot()._scheduledEvents` (and `system._snapshot._scheduledEvents`,
 *   now computed when read) has XState's shape and keys; assigning records to
 *   `system._snapshot._scheduledEvents` before the root starts makes
 *   `system.start()` schedule them, as a restored system does.
 * Deliberate difference: the snapshot lists events by source actor, in the
 * order each actor first scheduled, rather than in global scheduling order.
 *
 * Call it before the root actor starts. A system that does not have the
 * expected shape (another XState version), or already has pending events in
 * XState's own table, is left alone.
 *
 * @returns whether the scheduler was replaced.
 * @example
 * ```ts
 * const pool = createActor(poolMachine, { input, clock: new TimerWheel() });
 * indexScheduler(pool.system);
 * pool.start();
 * ```
 */
export function indexScheduler(system: System): boolean {
  const internals = system as unknown as Partial<SystemInternals>;
  if (!hasExpectedShape(internals)) return false;
  const clock = internals._clock;
  const slots = new Map<AnyActorRef, Slot>();
  // Records assigned to `_snapshot._scheduledEvents` (a restored system) until `start()` schedules them.
  let restored: Record<string, ScheduledEventRecord> = {};

  /** Drops whatever entry `source` has pending under `id` and returns it. */
  const take = (source: AnyActorRef, id: string): Pending | undefined => {
    const slot = slots.get(source);
    if (slot === undefined) return undefined;
    if (slot instanceof Map) {
      const entry = slot.get(id);
      if (entry !== undefined) {
        slot.delete(id);
        if (slot.size === 0) slots.delete(source);
      }
      return entry;
    }
    if (slot.id !== id) return undefined;
    slots.delete(source);
    return slot;
  };

  const fire = (entry: Pending): void => {
    // By id, as XState does: after a replacement this drops the newer entry.
    take(entry.source, entry.id);
    // Looked up at each firing, as XState does: the pool hooks the relay after this is installed.
    (internals as SystemInternals)._relay(entry.source, entry.target, entry.event);
  };

  const schedule = (
    source: AnyActorRef,
    target: AnyActorRef,
    event: EventObject,
    delay: number,
    id: string = Math.random().toString(36).slice(2)
  ): void => {
    const entry = new Pending(source, target, event, delay, id, Date.now());
    const slot = slots.get(source);
    if (slot === undefined || (!(slot instanceof Map) && slot.id === id)) slots.set(source, entry);
    else if (slot instanceof Map) slot.set(id, entry);
    else
      slots.set(
        source,
        new Map([
          [slot.id, slot],
          [id, entry]
        ])
      );
    entry.timer = clock.setTimeout(() => fire(entry), delay);
  };

  const cancel = (source: AnyActorRef, id: string): void => {
    const entry = take(source, id);
    if (entry !== undefined) clock.clearTimeout(entry.timer);
  };

  const cancelAll = (source: AnyActorRef): void => {
    const slot = slots.get(source);
    if (slot === undefined) return;
    slots.delete(source);
    if (slot instanceof Map) for (const entry of slot.values()) clock.clearTimeout(entry.timer);
    else clock.clearTimeout(slot.timer);
  };

  /** XState's persisted shape, built from the slots: `${sessionId}.${id}` → record. */
  const scheduledEvents = (): Record<string, ScheduledEventRecord> => {
    const records: Record<string, ScheduledEventRecord> = { ...restored };
    for (const [source, slot] of slots) {
      if (slot instanceof Map) for (const entry of slot.values()) records[`${source.sessionId}.${entry.id}`] = entry.toRecord();
      else records[`${source.sessionId}.${slot.id}`] = slot.toRecord();
    }
    return records;
  };

  const scheduler = internals.scheduler;
  scheduler.schedule = schedule;
  scheduler.cancel = cancel;
  scheduler.cancelAll = cancelAll;
  internals._snapshot = {
    get _scheduledEvents() {
      return scheduledEvents();
    },
    set _scheduledEvents(records) {
      restored = { ...records };
    }
  };
  internals.getSnapshot = () => ({ _scheduledEvents: scheduledEvents() });
  internals.start = () => {
    const records = restored;
    restored = {};
    for (const key in records) {
      const { source, target, event, delay, id } = records[key]!;
      schedule(source, target, event, delay, id);
    }
  };
  return true;
}

function hasExpectedShape(system: Partial<SystemInternals>): system is SystemInternals {
  const { scheduler, _snapshot, _clock, _relay, getSnapshot, start } = system;
  return (
    typeof scheduler?.schedule === 'function' &&
    typeof scheduler.cancel === 'function' &&
    typeof scheduler.cancelAll === 'function' &&
    typeof _snapshot?._scheduledEvents === 'object' &&
    _snapshot._scheduledEvents !== null &&
    // Events already in XState's table have timers only XState's scheduler can cancel.
    Object.keys(_snapshot._scheduledEvents).length === 0 &&
    typeof _clock?.setTimeout === 'function' &&
    typeof _clock.clearTimeout === 'function' &&
    typeof _relay === 'function' &&
    typeof getSnapshot === 'function' &&
    typeof start === 'function'
  );
}
