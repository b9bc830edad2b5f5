import { assign, emit, setup } from 'xstate';
import type { WorkerEmitted } from './worker-events.ts';

/** Events the pool machine accepts. */
export type PoolMachineEvent =
  /**
   * Peers' workers are starting: the façade sends one event for all the peers
   * registered in one turn (`ids` are their labels: no credentials).
   */
  | { type: 'pool.register'; ids: readonly string[] }
  /** A peer's worker has completely finished; `error` if its `start()` rejected. */
  | { type: 'peer.finished'; id: string; error?: unknown }
  /** A worker reported a lifecycle event; the pool re-emits it. */
  | { type: 'peer.event'; event: WorkerEmitted }
  | { type: 'pool.close' }
  /** Every worker has finished. */
  | { type: 'pool.closed' }
  | { type: `xstate.done.actor.${string}` }
  | { type: `xstate.error.actor.${string}`; error: unknown };

/** Emitted by the pool actor (`pool.actor.on('connected', …)`), besides the worker events. */
export type PoolEmitted = WorkerEmitted | { type: 'peer.crashed'; id: string; error: unknown };

export interface PoolContext {
  id: string;
  /** Workers started and not yet finished (removed peers still closing count too). */
  live: number;
}

type Finished = Extract<PoolMachineEvent, { type: 'peer.finished' }>;

/**
 * The pool statechart: counts the peers' workers from start to finish,
 * re-emits their lifecycle events and reports workers that crashed.
 *
 * Worker actors are created by the façade with `createActor(logic, { parent:
 * pool.actor })` rather than spawned: they share the pool's system (clock,
 * inspector) and report `xstate.error.actor.*` here, but do not live in the
 * pool's `snapshot.children`, whose copy-on-spawn makes registration
 * O(peers). The façade keeps the registry in a Map and reports every
 * worker's end with `peer.finished`, whatever the worker is made of, so the
 * count covers custom workers that run no actor at all. (The façade takes a
 * worker machine's `xstate.done.actor.*` on its way here: this machine would
 * ignore it, and each peer's own event type would cost it a transition
 * lookup and a cache entry that lives as long as the pool.)
 */
export const poolMachine = setup({
  types: {
    context: {} as PoolContext,
    input: {} as { id: string },
    events: {} as PoolMachineEvent,
    emitted: {} as PoolEmitted
  },
  guards: {
    crashed: ({ event }) => 'error' in event
  },
  actions: {
    countStart: assign({ live: ({ context, event }) => context.live + (event as Extract<PoolMachineEvent, { type: 'pool.register' }>).ids.length }),
    countFinish: assign({ live: ({ context }) => Math.max(0, context.live - 1) }),
    forwardPeerEvent: emit(({ event }) => (event as Extract<PoolMachineEvent, { type: 'peer.event' }>).event),
    emitStartRejected: emit(({ event }) => {
      const finished = event as Finished;
      return { type: 'peer.crashed' as const, id: finished.id, error: finished.error };
    }),
    emitMachineCrash: emit(({ event }) => {
      const failed = event as { type: string; error?: unknown };
      return { type: 'peer.crashed' as const, id: failed.type.slice('xstate.error.actor.'.length), error: failed.error };
    })
  }
}).createMachine({
  id: 'pool',
  context: ({ input }) => ({ id: input.id, live: 0 }),
  initial: 'open',
  on: {
    'peer.event': { actions: 'forwardPeerEvent' },
    'peer.finished': [{ guard: 'crashed', actions: ['countFinish', 'emitStartRejected'] }, { actions: 'countFinish' }],
    // A worker machine that failed: report it; the pool itself stays up (an
    // unhandled error event would put the pool in error). Its end is counted
    // by the `peer.finished` that follows.
    'xstate.error.actor.*': { actions: 'emitMachineCrash' }
  },
  states: {
    open: {
      on: {
        'pool.register': { actions: 'countStart' },
        'pool.close': 'closing'
      }
    },
    closing: {
      on: { 'pool.closed': 'closed' }
    },
    closed: { type: 'final' }
  }
});
