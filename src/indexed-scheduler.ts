import type { ActorSystem, AnyActorRef, EventObject } from 'xstate';

/** The part of XState's (internal) system scheduler this module touches. */
interface Scheduler {
  schedule(source: AnyActorRef, target: AnyActorRef, event: EventObject, delay: number, id?: string): void;
  cancel(source: AnyActorRef, id: string): void;
  cancelAll(source: AnyActorRef): void;
}

// A source's set is pruned of fired timers once it grows past this (ids of
// `after` transitions repeat, so only delayed sends without an id add up).
const PRUNE_AT = 64;

/**
 * Makes stopping an actor cost O(its own timers) instead of O(every timer in
 * the system).
 *
 * XState 5.33's scheduler keeps one object of all pending delayed events, and
 * `cancelAll(actor)`, run by every actor as it stops, walks all of them
 * (`for…in` over `_scheduledEvents`). A pool of N peers has ~2N pending
 * timers (handshake, ping, keepalive) and stops ~3N actors on `close()`, so
 * closing was quadratic: 5 000 dialing peers took 3.6 s, 20 000 a minute.
 * This wraps the scheduler of one system so it also indexes pending events by
 * source; `schedule` and `cancel` keep their behaviour and `cancelAll`
 * cancels exactly the source's own events. If the scheduler does not have
 * the expected shape (another XState version), it is left alone.
 *
 * @returns whether the scheduler was wrapped.
 * @example
 * ```ts
 * const pool = createActor(poolMachine, { input });
 * indexScheduler(pool.system);
 * ```
 */
export function indexScheduler(system: ActorSystem<any>): boolean {
  const scheduler = (system as unknown as { scheduler?: Partial<Scheduler> }).scheduler;
  const pending = (system as unknown as { _snapshot?: { _scheduledEvents?: Record<string, unknown> } })._snapshot?._scheduledEvents;
  const { schedule, cancel, cancelAll } = scheduler ?? {};
  if (scheduler === undefined || pending === undefined || !schedule || !cancel || !cancelAll) return false;
  // A source's pending ids: one string while it has one (a worker's usual case), a Set beyond.
  const bySource = new WeakMap<AnyActorRef, string | Set<string>>();

  scheduler.schedule = (source, target, event, delay, id = Math.random().toString(36).slice(2)) => {
    schedule(source, target, event, delay, id);
    const ids = bySource.get(source);
    // A fired timer leaves its id behind: a single stale id is replaced, not kept.
    if (ids === undefined || ids === id || (typeof ids === 'string' && !isPending(system, source, ids))) bySource.set(source, id);
    else if (typeof ids === 'string') bySource.set(source, new Set([ids, id]));
    else {
      if (ids.size >= PRUNE_AT) prune(system, source, ids);
      ids.add(id);
    }
  };
  scheduler.cancel = (source, id) => {
    cancel(source, id);
    const ids = bySource.get(source);
    if (ids === id) bySource.delete(source);
    else if (typeof ids === 'object') ids.delete(id);
  };
  scheduler.cancelAll = (source) => {
    const ids = bySource.get(source);
    if (ids === undefined) return;
    bySource.delete(source);
    // `cancel` ignores ids whose timer already fired.
    if (typeof ids === 'string') cancel(source, ids);
    else for (const id of ids) cancel(source, id);
  };
  return true;
}

function isPending(system: ActorSystem<any>, source: AnyActorRef, id: string): boolean {
  const pending = (system as unknown as { _snapshot: { _scheduledEvents: Record<string, unknown> } })._snapshot._scheduledEvents;
  return `${source.sessionId}.${id}` in pending;
}

// Fired timers delete themselves from the system's table without telling the scheduler.
function prune(system: ActorSystem<any>, source: AnyActorRef, ids: Set<string>): void {
  const pending = (system as unknown as { _snapshot: { _scheduledEvents: Record<string, unknown> } })._snapshot._scheduledEvents;
  for (const id of ids) if (!(`${source.sessionId}.${id}` in pending)) ids.delete(id);
}
