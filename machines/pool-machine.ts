import { assign, createActor, emit, fromPromise, setup, type AnyActorRef } from 'xstate';
import type { WorkerEmitted } from './worker-events.ts';

/** What a peer's host actor runs: the worker's `start()`, given the host ref. */
export interface PeerHostInput {
  run: (host: AnyActorRef) => Promise<void>;
}

/** Events the pool machine accepts. */
export type PoolMachineEvent =
  /** Create the peer's host actor (`id` is its actor id: keep credentials out of it) and start its worker. */
  | { type: 'pool.register'; id: string; run: PeerHostInput['run'] }
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
  /** Host actors started and not yet finished (removed peers still closing count too). */
  live: number;
}

/**
 * One peer's place in the actor tree: it runs the worker's `start()` and is
 * done when the worker has completely finished.
 */
export const peerHostLogic = fromPromise<void, PeerHostInput>(({ input, self }) => input.run(self));

/**
 * The pool statechart: registers peers, re-emits their lifecycle events and
 * notices when they finish.
 *
 * Peers are created with `createActor(peerHostLogic, { parent: self })`
 * rather than `spawnChild`: they share the pool's system (clock, inspector)
 * and report `xstate.done.actor.*` to the pool, but do not live in the pool's
 * `snapshot.children`, whose copy-on-spawn makes registration O(peers) — the
 * façade keeps the registry in a Map instead.
 */
export const poolMachine = setup({
  types: {
    context: {} as PoolContext,
    input: {} as { id: string },
    events: {} as PoolMachineEvent,
    emitted: {} as PoolEmitted
  },
  actions: {
    startPeerHost: ({ event, self }) => {
      if (event.type !== 'pool.register') return;
      const host = createActor(peerHostLogic, { parent: self, id: event.id, input: { run: event.run } });
      // Start outside this action: the worker's own actions must not run nested
      // inside one of the pool's (XState treats that as a custom action calling built-ins).
      queueMicrotask(() => host.start());
    },
    countStart: assign({ live: ({ context }) => context.live + 1 }),
    countFinish: assign({ live: ({ context }) => Math.max(0, context.live - 1) }),
    forwardPeerEvent: emit(({ event }) => (event as Extract<PoolMachineEvent, { type: 'peer.event' }>).event),
    emitCrash: emit(({ event }) => {
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
    'xstate.done.actor.*': { actions: 'countFinish' },
    // A worker whose start() rejected: report it; the pool itself stays up.
    'xstate.error.actor.*': { actions: ['countFinish', 'emitCrash'] }
  },
  states: {
    open: {
      on: {
        'pool.register': { actions: ['countStart', 'startPeerHost'] },
        'pool.close': 'closing'
      }
    },
    closing: {
      on: { 'pool.closed': 'closed' }
    },
    closed: { type: 'final' }
  }
});
