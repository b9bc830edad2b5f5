import { assign, emit, enqueueActions, setup, type ErrorActorEvent } from 'xstate';
import type { WorkerEmitted } from './worker-events.ts';

/** Events the pool machine accepts. */
export type PoolMachineEvent =
  /**
   * Peers' workers are starting: the façade sends one event for all the peers
   * registered in one turn (`ids` are their labels: no credentials).
   */
  | { type: 'pool.register'; ids: readonly string[] }
  /**
   * Peers' workers have completely finished: the façade sends one event for
   * all the workers that finished in one turn (`ids` are their labels).
   */
  | { type: 'peer.finished'; ids: readonly string[] }
  /** A custom worker's `start()` rejected: it has finished too, and the pool reports it. */
  | { type: 'peer.rejected'; id: string; error: unknown }
  /**
   * Workers reported lifecycle events; the pool re-emits each, in order. The
   * façade sends one event for all that were reported in one turn.
   */
  | { type: 'peer.events'; events: readonly WorkerEmitted[] }
  | { type: 'pool.close' }
  /** Every worker has finished. */
  | { type: 'pool.closed' }
  | { type: `xstate.done.actor.${string}` }
  | ErrorActorEvent;

/** Emitted by the pool actor (`pool.actor.on('connected', …)`), besides the worker events. */
export type PoolEmitted = WorkerEmitted | { type: 'peer.crashed'; id: string; error: unknown };

export interface PoolContext {
  id: string;
  /** Workers started and not yet finished (removed peers still closing count too). */
  live: number;
}

type Rejected = Extract<PoolMachineEvent, { type: 'peer.rejected' }>;

/**
 * The pool statechart: counts the peers' workers from start to finish,
 * re-emits their lifecycle events and reports workers that crashed.
 *
 * Worker actors are created by the façade with `createActor(logic, { parent:
 * pool.actor })` rather than spawned: they share the pool's system (clock,
 * inspector) and report `xstate.error.actor.*` here, but do not live in the
 * pool's `snapshot.children`, whose copy-on-spawn makes registration
 * O(peers). The façade keeps the registry in a Map and reports every
 * worker's end with `peer.finished` (`peer.rejected` for a custom worker
 * whose `start()` rejected), whatever the worker is made of, so the count
 * covers custom workers that run no actor at all. It batches per turn: the
 * registrations, lifecycle events and ends of one turn arrive as one event
 * each. A worker machine's own `xstate.done.actor.*` arrives too, as XState
 * sends it; this machine ignores it.
 */
export const poolMachine = setup({
  types: {
    context: {} as PoolContext,
    input: {} as { id: string },
    events: {} as PoolMachineEvent,
    emitted: {} as PoolEmitted
  },
  actions: {
    countStart: assign({ live: ({ context, event }) => context.live + (event as Extract<PoolMachineEvent, { type: 'pool.register' }>).ids.length }),
    countFinish: assign({
      live: ({ context, event }) => {
        const finished = event.type === 'peer.finished' ? event.ids.length : 1;
        return Math.max(0, context.live - finished);
      }
    }),
    forwardPeerEvents: enqueueActions(({ event, enqueue }) => {
      for (const emitted of (event as Extract<PoolMachineEvent, { type: 'peer.events' }>).events) enqueue.emit(emitted);
    }),
    emitStartRejected: emit(({ event }) => {
      const rejected = event as Rejected;
      return { type: 'peer.crashed' as const, id: rejected.id, error: rejected.error };
    }),
    emitMachineCrash: emit(({ event }) => {
      const failed = event as ErrorActorEvent;
      return { type: 'peer.crashed' as const, id: failed.actorId, error: failed.error };
    })
  }
}).createMachine({
  id: 'pool',
  context: ({ input }) => ({ id: input.id, live: 0 }),
  initial: 'open',
  on: {
    'peer.events': { actions: 'forwardPeerEvents' },
    'peer.finished': { actions: 'countFinish' },
    'peer.rejected': { actions: ['countFinish', 'emitStartRejected'] },
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
