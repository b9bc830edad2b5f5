import { assign, emit, fromCallback, raise, setup, type CallbackActorLogic, type EventObject } from 'xstate';
import { computeBackoff, jitterFactor, type BackoffPolicy } from './backoff.ts';
import type { CloseCause, SocketEvent, WorkerEmitted, WorkerEndedEvent, WorkerEvent } from './worker-events.ts';
import type { WorkerLink } from './worker-link.ts';

/** The timings a worker runs on (all milliseconds; 0 turns ping/keepalive off). */
export interface WorkerTiming {
  reconnectDelay: number;
  minUptime: number;
  keepaliveTimeout: number;
  pingInterval: number;
  handshakeTimeout: number;
  closeTimeout: number;
  /**
   * `maxRetries`: failed dials in a row before the worker retires (0 = never).
   * `maxFlaps`: connections in a row that end before `minUptime` after which
   * the worker retires (0 or absent = never).
   */
  retry: BackoffPolicy & { maxRetries: number; maxFlaps?: number };
}

/** What a worker machine is started with. */
export interface WorkerInput {
  /** The peer id, copied into every emitted event. */
  id: string;
  link: WorkerLink;
  timing: WorkerTiming;
  /** Epoch-ms clock; tests pass `() => simulatedClock.now()`. Default `Date.now`. */
  now?: () => number;
  /** Random source in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

/** What the worker's hook actors (`handshake`, `connection`) are started with. */
export interface SocketInput {
  id: string;
  link: WorkerLink;
}

/**
 * The `handshake` hook: runs from `socket.open` until it sends the worker
 * `handshake.done` (then `connected`) or `handshake.failed` (a failed dial).
 * Only invoked when the `hasHandshake` guard is true.
 */
export type HandshakeLogic = CallbackActorLogic<EventObject, SocketInput>;

/**
 * The `connection` hook: invoked on `connected` and stopped when the
 * connection ends (a frame tap, say). Only invoked when the
 * `hasConnectionHook` guard is true.
 */
export type ConnectionLogic = CallbackActorLogic<EventObject, SocketInput>;

export interface WorkerContext {
  id: string;
  link: WorkerLink;
  timing: WorkerTiming;
  now: () => number;
  random: () => number;
  /** Consecutive unsuccessful tries: failed dials and connections shorter than `minUptime`. */
  attempt: number;
  /** Consecutive connections shorter than `minUptime` (flaps); a connection that lives `minUptime` resets it. */
  flaps: number;
  /** Why the worker is waiting: after a failed dial, or after a connection ended. */
  waitingAfter: 'dial_failed' | 'disconnected';
  connectedAt: number | undefined;
  /** When the next ping is due (epoch ms), while connected with `pingInterval` on. */
  nextPingAt: number | undefined;
  connections: number;
  dialFailures: number;
  lastError: string | undefined;
}

/** How XState reports a failure of a hook actor (typed here: the invoke nesting is too deep for inference). */
type HookFailure = { type: `xstate.error.actor.${'handshake' | 'connection'}`; error: unknown };

/** The public status names, exposed as tags so they stay stable under nesting. */
export type WorkerTag = 'dialing' | 'connected' | 'closing' | 'backoff' | 'stopped';

/** The tags of the worker machine: the public ones, and `handshaking` (which is also `dialing`). */
export type WorkerMachineTag = WorkerTag | 'handshaking';

/** The wait before the next dial: backoff after failures, jittered `reconnectDelay` (plus backoff for flaps) after a connection. */
export function nextDialDelay(context: WorkerContext): number {
  const backoff = computeBackoff(context.attempt, context.timing.retry, context.random);
  if (context.waitingAfter !== 'disconnected') return backoff;
  // When a server restarts, all its peers lose their connection at once; jitter
  // (the retry policy's, same spread) keeps them from redialing in one burst.
  return Math.round(context.timing.reconnectDelay * jitterFactor(context.timing.retry.jitter, context.random)) + backoff;
}

// The keepalive belongs to the connection: activity from before it opened
// (a previous connection's, or none at all) must not count against it.
function lastActivity(context: WorkerContext): number {
  return Math.max(context.link.lastActivityAt, context.connectedAt ?? -Infinity);
}

/** How long until the keepalive may have expired: the full timeout while paused, else what is left (at least 1 ms). */
export function keepaliveRemaining(context: WorkerContext): number {
  const { keepaliveTimeout } = context.timing;
  if (context.link.paused) return keepaliveTimeout;
  return Math.max(1, lastActivity(context) + keepaliveTimeout - context.now());
}

/** When the ping after one sent (or the connection opening) at `at` is due: `pingInterval` ±10 %; undefined when pings are off. */
export function nextPingAt(context: WorkerContext, at: number): number | undefined {
  const { pingInterval } = context.timing;
  return pingInterval === 0 ? undefined : at + Math.round(pingInterval * (0.9 + 0.2 * context.random()));
}

// Longer waits overflow Node's timers (they would fire at once).
const LONGEST_TIMER = 2 ** 31 - 1;

/**
 * How long until the heartbeat must look again: the sooner of the next ping
 * and the keepalive deadline. With both off it only re-arms, at the longest
 * timer Node allows.
 */
export function heartbeatDelay(context: WorkerContext): number {
  let delay = LONGEST_TIMER;
  if (context.timing.keepaliveTimeout > 0) delay = Math.min(delay, keepaliveRemaining(context));
  if (context.nextPingAt !== undefined) delay = Math.min(delay, Math.max(0, context.nextPingAt - context.now()));
  return delay;
}

/**
 * Why a dial failed, as the transition into `failed` says it (the params of
 * its `recordDialFailure`): the event's own error, the socket closing during
 * the handshake, or which timeout ran out.
 */
export type DialFailure = 'error' | 'closedDuringHandshake' | 'openTimeout' | 'handshakeTimeout';

function failureText(failure: DialFailure, event: { type: string; error?: unknown; code?: unknown }, context: WorkerContext): string {
  const { handshakeTimeout } = context.timing;
  switch (failure) {
    case 'closedDuringHandshake':
      return `socket closed with code ${String(event.code)} during the handshake`;
    case 'handshakeTimeout':
      return `handshake not done within ${handshakeTimeout} ms of the socket opening`;
    case 'openTimeout':
      return `handshake timed out after ${handshakeTimeout} ms`;
    case 'error': {
      const error = event.error;
      if (typeof error === 'string') return error;
      return error instanceof Error ? error.message : String(error ?? event.type);
    }
  }
}

function uptimeOf(context: WorkerContext): number {
  return context.now() - (context.connectedAt ?? context.now());
}

/** Whether `retry.maxFlaps` (when on) connections in a row ended before `minUptime`. */
function tooManyFlaps(context: WorkerContext): boolean {
  const maxFlaps = context.timing.retry.maxFlaps ?? 0;
  return maxFlaps > 0 && context.flaps >= maxFlaps && context.waitingAfter === 'disconnected';
}

function disconnected(context: WorkerContext, code: number, reason: string, cause: CloseCause): WorkerEmitted {
  return { type: 'disconnected', id: context.id, at: context.now(), code, reason, cause };
}

// A link whose socket methods throw has a bug; the worker treats it as a lost socket, not as its own failure.
function linkFailure(error: unknown): string {
  return `socket adapter failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** Gives the link one command; if it throws, the connection is lost (1006, `network_error`). */
function commandLink(self: { send(event: SocketEvent): void }, command: () => void): void {
  try {
    command();
  } catch (error) {
    self.send({ type: 'socket.closed', code: 1006, reason: linkFailure(error), cause: 'network_error' });
  }
}

/** The `disconnected` event of a keepalive that expired; a custom machine may give its own `reason`. */
export function keepaliveTimeoutEvent(context: WorkerContext, reason = 'keepalive timeout'): WorkerEmitted {
  return disconnected(context, 1006, reason, 'keepalive_timeout');
}

/**
 * The worker's last word, emitted on entering `stopped`: the pool ends the
 * peer's run on it (see {@link WorkerEndedEvent}). Inline in the chart rather
 * than a named action, so `.provide()` cannot drop it; `workerFromMachine`
 * finds it by identity in a machine's final states.
 */
export const emitWorkerEnded = emit<WorkerContext, WorkerEvent | HookFailure, undefined, WorkerEvent | HookFailure, WorkerEndedEvent>({
  type: 'worker.ended'
});

/**
 * The connected heartbeat: on each timer, a dead keepalive ends the
 * connection; otherwise a due ping goes out; either way the state re-enters
 * itself, which re-arms the timer.
 */
function heartbeat() {
  return {
    after: {
      heartbeatDelay: [
        {
          guard: 'keepaliveExpired',
          target: '#worker.backoff',
          actions: ['emitKeepaliveTimeout', 'recordConnectionEnd']
        },
        { guard: 'pingDue', target: 'live', reenter: true, actions: ['sendPing', 'schedulePing'] },
        { target: 'live', reenter: true }
      ]
    }
  } as const;
}

/**
 * The default worker statechart: one peer, dialed, kept alive and redialed
 * until it is stopped or its retry policy gives up.
 *
 * It imports only xstate. The socket belongs to the `link` in its input
 * (`link.dial` on entering `session`, `link.release` on leaving it; `src/`'s
 * the pool's link opens sockets with its transport, tests pass a test link), and time comes from
 * the actor system's clock plus the injected `now`. XState runs no exit
 * action when an actor is stopped with `actor.stop()` or fails, so whoever
 * runs this machine directly calls `link.release()` then (`MachineWorker`
 * does, for the pool).
 *
 * A custom worker swaps single blocks with `.provide(...)`: besides the
 * delays and guards, the hooks `hasHandshake` + `handshake` (an application
 * handshake between `socket.open` and `connected`), `hasConnectionHook` +
 * `connection` (an actor that lives exactly as long as each connection), `sendPing` (how a
 * keepalive ping goes out) and `dialLink` / `releaseLink` (how a session gets its
 * socket). The examples in `machines/examples/` are built so.
 *
 * @example
 * ```ts
 * const link = createTestLink(); // from honeybee-pool/testkit
 * const worker = createActor(workerMachine, { input: { id: 'ws://127.0.0.1:7000', link, timing } });
 * worker.on('connected', (e) => console.log('up at', e.at));
 * worker.start();
 * link.dials[0]?.open(); // the fake socket opens: `connected`
 * ```
 */
export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    input: {} as WorkerInput,
    events: {} as WorkerEvent | HookFailure,
    emitted: {} as WorkerEmitted | WorkerEndedEvent,
    tags: {} as WorkerMachineTag,
    output: {} as { retired: boolean; attempts: number }
  },
  actors: {
    // Hooks: no handshake (`hasHandshake` is false) and nothing to do per connection (`hasConnectionHook` is false).
    handshake: fromCallback<EventObject, SocketInput>(() => () => {}),
    connection: fromCallback<EventObject, SocketInput>(() => () => {})
  },
  delays: {
    handshakeTimeout: ({ context }) => context.timing.handshakeTimeout,
    dialDelay: ({ context }) => nextDialDelay(context),
    heartbeatDelay: ({ context }) => heartbeatDelay(context),
    closeTimeout: ({ context }) => context.timing.closeTimeout
  },
  guards: {
    hasHandshake: () => false,
    hasConnectionHook: () => false,
    canRetry: ({ context }) => context.timing.retry.maxRetries === 0 || context.attempt <= context.timing.retry.maxRetries,
    keepaliveExpired: ({ context }) =>
      context.timing.keepaliveTimeout > 0 && !context.link.paused && context.now() - lastActivity(context) >= context.timing.keepaliveTimeout,
    pingDue: ({ context }) => context.nextPingAt !== undefined && context.now() >= context.nextPingAt,
    tooManyFlaps: ({ context }) => tooManyFlaps(context)
  },
  actions: {
    recordDialFailure: assign(({ context, event }, params: { failure: DialFailure }) => ({
      attempt: context.attempt + 1,
      dialFailures: context.dialFailures + 1,
      waitingAfter: 'dial_failed' as const,
      lastError: failureText(params.failure, event as { type: string; error?: unknown; code?: unknown }, context)
    })),
    emitDialFailed: emit(({ context }) => ({
      type: 'dial_failed' as const,
      id: context.id,
      at: context.now(),
      attempt: context.attempt,
      error: context.lastError ?? 'unknown error'
    })),
    emitRetired: emit(({ context }) => ({ type: 'retired' as const, id: context.id, at: context.now(), attempts: context.attempt })),
    recordConnected: assign(({ context }) => {
      const at = context.now();
      return { connectedAt: at, connections: context.connections + 1, nextPingAt: nextPingAt(context, at) };
    }),
    schedulePing: assign({ nextPingAt: ({ context }) => nextPingAt(context, context.now()) }),
    emitConnected: emit(({ context }) => ({ type: 'connected' as const, id: context.id, at: context.now() })),
    // A connection that lived `minUptime` resets the streaks; a shorter one (a flap) extends them.
    recordConnectionEnd: assign(({ context }) => {
      const healthy = uptimeOf(context) >= context.timing.minUptime;
      return {
        attempt: healthy ? 0 : context.attempt + 1,
        flaps: healthy ? 0 : context.flaps + 1,
        waitingAfter: 'disconnected' as const,
        connectedAt: undefined,
        nextPingAt: undefined
      };
    }),
    // A reconnect the user asked for is no flap: a healthy connection still resets the streaks.
    recordReconnect: assign(({ context }) => {
      const healthy = uptimeOf(context) >= context.timing.minUptime;
      return {
        attempt: healthy ? 0 : context.attempt,
        flaps: healthy ? 0 : context.flaps,
        connectedAt: undefined,
        nextPingAt: undefined
      };
    }),
    emitReconnectClose: emit(({ context }) => disconnected(context, 1000, 'reconnect requested', 'local_stop')),
    sendReconnectFrame: ({ context, self }) => commandLink(self, () => context.link.close(1000, 'reconnect requested')),
    requestRedial: raise({ type: 'worker.redial' as const }),
    emitRemoteClose: emit(({ context, event }) => {
      const closed = event as Extract<WorkerEvent, { type: 'socket.closed' }>;
      return disconnected(context, closed.code, closed.reason, closed.cause);
    }),
    emitKeepaliveTimeout: emit(({ context }) => keepaliveTimeoutEvent(context)),
    emitConnectionCrash: emit(({ context }) => disconnected(context, 1006, 'connection actor failed', 'network_error')),
    emitLocalStop: emit(({ context }) => disconnected(context, 1000, 'worker stopped', 'local_stop')),
    // The link's socket reports straight to the worker, through the actor's own `send`
    // (XState binds it to the actor), not a closure per dial. A link that throws is
    // reported as a failed dial or a lost connection, never as the worker's own failure.
    dialLink: ({ context, self }) => {
      try {
        context.link.dial(self.send);
      } catch (error) {
        self.send({ type: 'socket.failed', error: linkFailure(error) });
      }
    },
    releaseLink: ({ context }) => {
      try {
        context.link.release();
      } catch {
        // Nothing more can be done for a socket the link cannot let go of.
      }
    },
    sendPing: ({ context, self }) => commandLink(self, () => context.link.ping()),
    sendCloseFrame: ({ context, self }) => commandLink(self, () => context.link.close(1000, 'worker stopped'))
  }
}).createMachine({
  id: 'worker',
  initial: 'session',
  context: ({ input }) => ({
    id: input.id,
    link: input.link,
    timing: input.timing,
    now: input.now ?? Date.now,
    random: input.random ?? Math.random,
    attempt: 0,
    flaps: 0,
    waitingAfter: 'dial_failed',
    connectedAt: undefined,
    nextPingAt: undefined,
    connections: 0,
    dialFailures: 0,
    lastError: undefined
  }),
  // Flaps also raise `attempt`, so only a streak that ended in a failed dial means the policy gave up.
  output: ({ context }) => ({
    retired:
      (context.timing.retry.maxRetries > 0 && context.attempt > context.timing.retry.maxRetries && context.waitingAfter === 'dial_failed') || tooManyFlaps(context),
    attempts: context.attempt
  }),
  on: {
    // From dialing and backoff a stop is immediate and silent: nothing was usable.
    'worker.stop': '.stopped',
    // Redial now: from backoff at once, from dialing with a fresh socket (leaving `session` releases the old one).
    'worker.reconnect': { target: '.session', reenter: true }
  },
  states: {
    // The socket lives as long as this state: entering it dials, leaving it
    // releases whatever is left of the connection. (XState runs no exit action
    // when the actor is stopped from outside or fails: whoever runs the actor
    // releases the link then, as MachineWorker does.)
    session: {
      entry: 'dialLink',
      exit: 'releaseLink',
      initial: 'dialing',
      states: {
        dialing: {
          tags: 'dialing',
          after: { handshakeTimeout: { target: '#worker.failed', actions: { type: 'recordDialFailure', params: { failure: 'openTimeout' } } } },
          on: {
            'socket.open': [{ guard: 'hasHandshake', target: 'handshaking' }, { guard: 'hasConnectionHook', target: 'connected.hooked' }, { target: 'connected' }],
            'socket.failed': { target: '#worker.failed', actions: { type: 'recordDialFailure', params: { failure: 'error' } } }
          }
        },
        // The socket is open but the peer is not usable until the handshake hook says so:
        // still `dialing` to the pool (send() refuses), and any failure is a failed dial.
        handshaking: {
          tags: ['dialing', 'handshaking'],
          invoke: {
            id: 'handshake',
            src: 'handshake',
            input: ({ context }) => ({ id: context.id, link: context.link })
          },
          after: { handshakeTimeout: { target: '#worker.failed', actions: { type: 'recordDialFailure', params: { failure: 'handshakeTimeout' } } } },
          on: {
            'handshake.done': [{ guard: 'hasConnectionHook', target: 'connected.hooked' }, { target: 'connected' }],
            'handshake.failed': { target: '#worker.failed', actions: { type: 'recordDialFailure', params: { failure: 'error' } } },
            'xstate.error.actor.handshake': { target: '#worker.failed', actions: { type: 'recordDialFailure', params: { failure: 'error' } } },
            'socket.closed': { target: '#worker.failed', actions: { type: 'recordDialFailure', params: { failure: 'closedDuringHandshake' } } }
          }
        },
        // One timer serves both keepalive and ping: it fires at whichever is due
        // first, and the state re-enters itself to re-arm it. The `connection`
        // hook, when switched on, runs in `hooked` around the same heartbeat.
        connected: {
          tags: 'connected',
          entry: ['recordConnected', 'emitConnected'],
          on: {
            'socket.closed': { target: '#worker.backoff', actions: ['emitRemoteClose', 'recordConnectionEnd'] },
            'worker.stop': { target: 'closing', actions: ['sendCloseFrame', 'emitLocalStop'] },
            // XState runs exit actions before a transition's own, and leaving `session` releases
            // the socket: the close frame goes out here, in `connected`, and the redial follows.
            'worker.reconnect': { actions: ['sendReconnectFrame', 'emitReconnectClose', 'recordReconnect', 'requestRedial'] },
            'worker.redial': { target: '#worker.session', reenter: true }
          },
          initial: 'live',
          states: {
            live: heartbeat(),
            // Lives exactly as long as the connection: a tap for the worker's own frames, say.
            hooked: {
              invoke: {
                id: 'connection',
                src: 'connection',
                input: ({ context }) => ({ id: context.id, link: context.link })
              },
              on: {
                'xstate.error.actor.connection': {
                  target: '#worker.backoff',
                  actions: ['emitConnectionCrash', 'recordConnectionEnd']
                }
              },
              initial: 'live',
              states: { live: heartbeat() }
            }
          }
        },
        // A close frame is out; give the peer `closeTimeout` to answer before terminating.
        closing: {
          tags: 'closing',
          after: { closeTimeout: '#worker.stopped' },
          on: {
            'socket.closed': '#worker.stopped',
            'worker.stop': {},
            'worker.reconnect': {}
          }
        }
      }
    },
    // A dial failed (the transition here recorded why): report it, then retry or retire.
    failed: {
      tags: 'backoff',
      entry: 'emitDialFailed',
      always: [
        { guard: 'canRetry', target: 'backoff' },
        { target: 'stopped', actions: 'emitRetired' }
      ]
    },
    // After a connection ended: `retry.maxFlaps` short ones in a row retire the worker.
    backoff: {
      tags: 'backoff',
      always: { guard: 'tooManyFlaps', target: 'stopped', actions: 'emitRetired' },
      after: { dialDelay: 'session' }
    },
    stopped: {
      tags: 'stopped',
      type: 'final',
      entry: emitWorkerEnded
    }
  }
});
