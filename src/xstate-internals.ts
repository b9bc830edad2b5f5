/**
 * Every use of XState's internals, in one place. There is one: the
 * delayed-event scheduler of the pool's actor system is replaced by an index
 * (below). Nothing else in the pool's runtime writes to XState's actor system
 * or relies on its undocumented behaviour: the clock is the public `clock`
 * option, worker ends come through emitted events, `subscribe` and the
 * parent's error event, and the pool actor's logic is the pool machine behind
 * the public `transition` of actor logic. (The inspector reads `_parent` and
 * `logic.config`, as XState's own inspector does.)
 *
 * Why it exists, and what it buys (docs/performance.md): XState 5.33's
 * `cancelAll`, which every actor runs as it stops, walks every pending
 * delayed event of the whole system, so closing N peers is quadratic:
 * closing 5 000 dialing peers took 3.6 s with XState's scheduler and 0.3 s
 * with the index; 10 000 cancels plus 30 000 `cancelAll` take 18.6 s with it
 * and 2.2–2.4 ms with the index. The fix belongs upstream
 * (docs/xstate-upstream.md); until XState has it, the pool installs this.
 *
 * How it stays safe across XState releases: it installs only after a
 * behaviour canary has passed on this copy of XState (a throwaway system
 * schedules, cancels and fires a probe event, and a throwaway child's end
 * reaches its parent; the system's snapshot holds exactly the one field this
 * replaces). When the canary fails, the pool runs on XState's own scheduler,
 * slower to close but correct, and says so once, at warn. The package's
 * `xstate` range admits only the versions the suite has run on
 * (`npm run test:xstate-latest` tries the newest).
 */
import { createActor, setup, type ActorSystem, type AnyActorRef, type EventObject } from 'xstate';
import type { Logger } from './logger.ts';

// XState's own types for the members used here (its `ActorSystem` declares them).
type System = ActorSystem<any>;
/** One delayed event as XState persists it in `system.getSnapshot()._scheduledEvents`. */
type ScheduledEventRecord = ReturnType<System['getSnapshot']>['_scheduledEvents'][string];

/** The members of XState 5.33's actor system that this module reads or replaces, its internal ones included. */
type SystemInternals = Pick<System, 'scheduler' | '_clock' | 'getSnapshot'> & {
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
 * What is patched: the three methods of `system.scheduler`, and the one
 * property `_scheduledEvents` of XState's own `system._snapshot` object
 * (redefined as a getter and setter over the index; every other field XState
 * keeps there, today or in a later release, is left as it is). XState's
 * `getSnapshot()` and `start()` read and write that property, so a
 * persisted system snapshot and a restored one keep XState's shape.
 *
 * Behaviour kept from XState:
 * - scheduling an id that the same source already has pending replaces the
 *   entry but does not clear the earlier timer: both events are delivered,
 *   and when the earlier timer fires it drops whatever entry holds that id,
 *   so the replacement can no longer be cancelled (XState's own quirk,
 *   reproduced so that machines behave the same with and without the pool);
 * - `cancel` of an id that is unknown or has fired does nothing;
 * - a delayed send without an id gets a random one;
 * - `system.getSnapshot()._scheduledEvents` has XState's shape and keys;
 *   assigning records to `system._snapshot._scheduledEvents` before the root
 *   starts makes `system.start()` schedule them, as a restored system does.
 * Deliberate difference: the snapshot lists events by source actor, in the
 * order each actor first scheduled, rather than in global scheduling order.
 *
 * Call it before the root actor starts. It installs only when the behaviour
 * canary has passed on this copy of XState ({@link schedulerCanary}) and the
 * system has the expected shape with nothing pending in XState's own table;
 * otherwise it leaves the system alone and, when given a logger, warns once
 * per process.
 *
 * @returns whether the scheduler was replaced.
 * @example
 * ```ts
 * const pool = createActor(poolMachine, { input, clock: new TimerWheel() });
 * indexScheduler(pool.system, logger);
 * pool.start();
 * ```
 */
export function indexScheduler(system: System, logger?: Logger): boolean {
  const canary = schedulerCanary();
  if (canary !== undefined) {
    warnOnce(logger, canary);
    return false;
  }
  if (!install(system)) {
    warnOnce(logger, 'the actor system does not have the shape this XState version had when the canary ran');
    return false;
  }
  return true;
}

function install(system: System): boolean {
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
    // Looked up at each firing, as XState does.
    (internals as SystemInternals)._relay(entry.source, entry.target, entry.event);
  };

  const schedule = (source: AnyActorRef, target: AnyActorRef, event: EventObject, delay: number, id: string = Math.random().toString(36).slice(2)): void => {
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
  // XState's start() reads this, assigns `{}` and schedules what it read: the restored records.
  Object.defineProperty(internals._snapshot, '_scheduledEvents', {
    configurable: true,
    enumerable: true,
    get: scheduledEvents,
    set(records: Record<string, ScheduledEventRecord>) {
      restored = { ...records };
    }
  });
  return true;
}

function hasExpectedShape(system: Partial<SystemInternals>): system is SystemInternals {
  const { scheduler, _snapshot, _clock, _relay, getSnapshot } = system;
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
    typeof getSnapshot === 'function'
  );
}

// The canary's verdict for this copy of XState: undefined when it passed, else what went wrong.
let verdict: { failure: string | undefined } | undefined;
let warned = false;

function warnOnce(logger: Logger | undefined, failure: string): void {
  if (logger === undefined || warned) return;
  warned = true;
  logger.warn(
    { reason: failure },
    "XState's actor system did not behave as the pool's scheduler index expects: the pool runs on XState's own scheduler (correct, but closing many peers is slower)"
  );
}

/**
 * The behaviour canary of {@link indexScheduler}, run once per process on a
 * throwaway system with a simulated clock: with the index installed, a child
 * created as the pool creates workers (`createActor(logic, { parent })`)
 * schedules a delayed event and has it cancelled (leaving its state), has
 * another fire (the clock advances), and reaches its final state, whose end
 * XState must deliver to the parent as `xstate.done.actor.<id>`; a second
 * child stops with a timer pending, which must be cancelled. The system
 * snapshot must hold exactly `_scheduledEvents`, before and after, and
 * session ids must stay distinct. Returns undefined when all held, else
 * what did not.
 */
export function schedulerCanary(): string | undefined {
  verdict ??= { failure: runCanary() };
  return verdict.failure;
}

/** The canary's clock: timers fire when it is told to advance, in due order. */
class ProbeClock {
  #now = 0;
  #next = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): number {
    this.#timers.set(++this.#next, { at: this.#now + ms, fn });
    return this.#next;
  }

  clearTimeout(id: number): void {
    this.#timers.delete(id);
  }

  increment(ms: number): void {
    this.#now += ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const timer of this.#timers) if (timer[1].at <= this.#now && (due === undefined || timer[1].at < due[1].at)) due = timer;
      if (due === undefined) return;
      this.#timers.delete(due[0]);
      due[1].fn();
    }
  }
}

function runCanary(): string | undefined {
  try {
    const probe = setup({}).createMachine({
      initial: 'armed',
      states: {
        // Left before its timer fires: XState cancels it.
        armed: { after: { 50: 'late' }, on: { go: 'waiting' } },
        waiting: { after: { 10: 'ended' } },
        late: {},
        ended: { type: 'final' }
      }
    });
    // Ends itself with a timer pending: XState's stop runs cancelAll for it.
    const idle = setup({}).createMachine({ initial: 'idle', states: { idle: { after: { 1000: 'late' }, on: { halt: 'gone' } }, late: {}, gone: { type: 'final' } } });
    const parentLogic = setup({}).createMachine({
      initial: 'watching',
      states: { watching: { on: { 'xstate.done.actor.probe': 'heard' } }, heard: {} }
    });
    const clock = new ProbeClock();
    const parent = createActor(parentLogic, { clock });
    const internals = parent.system as unknown as Partial<SystemInternals>;
    const fields = (): string => Object.keys(internals._snapshot ?? {}).join(',');
    const snapshotFields = (): string => Object.keys((internals.getSnapshot?.() ?? {}) as object).join(',');
    if (fields() !== '_scheduledEvents' || snapshotFields() !== '_scheduledEvents') {
      return `the actor system's snapshot holds ${fields() || 'nothing'} / ${snapshotFields() || 'nothing'}, not just _scheduledEvents`;
    }
    if (!install(parent.system)) return 'the actor system does not have the expected shape';
    parent.start();
    const child = createActor(probe, { parent, id: 'probe' }).start();
    const other = createActor(idle, { parent, id: 'other' }).start();
    const pending = (): number => Object.keys(internals.getSnapshot?.()._scheduledEvents ?? {}).length;
    if (pending() !== 2) return `2 events scheduled, ${pending()} in the system snapshot`;
    child.send({ type: 'go' });
    if (pending() !== 2) return `an event cancelled and one scheduled, ${pending()} pending`;
    clock.increment(10);
    if (child.getSnapshot().status !== 'done') return 'a delayed event did not fire';
    if (!parent.getSnapshot().matches('heard')) return "a child's end did not reach its parent as xstate.done.actor.<id>";
    clock.increment(50);
    if (child.getSnapshot().value === 'late') return 'a cancelled delayed event fired';
    if (pending() !== 1) return `${pending()} events pending after one fired and its actor ended, not 1`;
    other.send({ type: 'halt' });
    if (pending() !== 0) return `${pending()} events left pending after every child ended`;
    parent.stop();
    const ids = new Set([parent.sessionId, child.sessionId, other.sessionId]);
    if (ids.size !== 3 || [...ids].some((id) => typeof id !== 'string' || id.includes('NaN'))) {
      return `session ids are not distinct: ${[...ids].join(', ')}`;
    }
    if (fields() !== '_scheduledEvents' || snapshotFields() !== '_scheduledEvents') return 'the system snapshot changed its fields';
    return undefined;
  } catch (error) {
    return `the canary threw: ${error instanceof Error ? error.message : String(error)}`;
  }
}
