import { assign, emit, fromCallback, fromPromise, sendTo, setup } from 'xstate';
import type { FrameLink } from '../frame-link.ts';
import type { CloseCause, SocketCommand, WorkerEmitted, WorkerEvent } from '../worker-events.ts';
import { keepaliveRemaining, nextDialDelay, type SocketInput, type WorkerContext, type WorkerInput, type WorkerTag } from '../worker-machine.ts';
import { authTapLogic, type AuthFrame, type SignerInput } from './auth-protocol.ts';

/** Input of {@link authWorkerMachine}: the worker input, with a link that can tap frames. */
export interface AuthWorkerInput extends Omit<WorkerInput, 'link'> {
  link: FrameLink;
  /** Limit for the whole handshake, from the socket opening to the server's OK, ms. Default 10000. */
  authTimeout?: number;
}

/** The auth worker's context: the default worker's, plus the handshake's timeout and pending challenge. */
export interface AuthWorkerContext extends WorkerContext {
  link: FrameLink;
  authTimeout: number;
  /** The pending challenge: the only protocol bytes the machine keeps, and only while authenticating. */
  challenge: string | undefined;
}

type AuthWorkerEvent = WorkerEvent | AuthFrame;

function failureText(event: { type: string; [key: string]: unknown }, context: AuthWorkerContext): string {
  const { type } = event;
  if (type === 'socket.failed') return String(event.error);
  if (type === 'auth.rejected') return `authentication rejected: ${String(event.reason)}`;
  if (type === 'socket.closed') return `socket closed with code ${String(event.code)} during authentication`;
  if (type.startsWith('xstate.after.authTimeout')) return `authentication timed out after ${context.authTimeout} ms`;
  if (type.startsWith('xstate.after')) return `handshake timed out after ${context.timing.handshakeTimeout} ms`;
  const error = event.error;
  const text = error instanceof Error ? error.message : String(error ?? type);
  return type === 'xstate.error.actor.signer' ? `signer failed: ${text}` : text;
}

function lastActivity(context: AuthWorkerContext): number {
  return Math.max(context.link.lastActivityAt, context.connectedAt ?? -Infinity);
}

function disconnected(context: AuthWorkerContext, code: number, reason: string, cause: CloseCause): WorkerEmitted {
  return { type: 'disconnected', id: context.id, at: context.now(), code, reason, cause };
}

/**
 * An authenticating worker: after the socket opens it answers the server's
 * challenge (`["AUTH", challenge]` → `["AUTH", signed]` → `["OK", …, true]`)
 * and only then reports `connected`. A rejection, a signer error, a close or
 * `authTimeout` during the handshake count as a failed dial (`dial_failed`,
 * then backoff). The handshake frames are consumed by a tap on the link, so
 * they never reach the inbox; until `connected`, `send()` throws
 * `ConnectionUnavailableError` (the state is tagged `dialing`).
 *
 * Provide `socket` (`wsSocketLogic` in Node) and `signer` ({@link signerFrom}).
 *
 * @example
 * ```ts
 * const logic = authWorkerMachine.provide({
 *   actors: { socket: wsSocketLogic, signer: signerFrom((challenge) => signChallenge(challenge)) }
 * });
 * const pool = createPool({ workerFactory: workerFromMachine(logic, { input: { authTimeout: 5000 } }) });
 * ```
 */
export const authWorkerMachine = setup({
  types: {
    context: {} as AuthWorkerContext,
    input: {} as AuthWorkerInput,
    events: {} as AuthWorkerEvent,
    emitted: {} as WorkerEmitted,
    tags: {} as WorkerTag | 'authenticating'
  },
  actors: {
    socket: fromCallback<SocketCommand, SocketInput>(() => () => {}),
    authTap: authTapLogic,
    signer: fromPromise<unknown, SignerInput>(() =>
      Promise.reject(new Error('no signer: provide one with authWorkerMachine.provide({ actors: { signer: signerFrom(sign) } })'))
    )
  },
  delays: {
    handshakeTimeout: ({ context }) => context.timing.handshakeTimeout,
    authTimeout: ({ context }) => context.authTimeout,
    dialDelay: ({ context }) => nextDialDelay(context),
    pingDelay: ({ context }) => Math.round(context.timing.pingInterval * (0.9 + 0.2 * context.random())),
    keepaliveDelay: ({ context }) => keepaliveRemaining(context),
    closeTimeout: ({ context }) => context.timing.closeTimeout
  },
  guards: {
    canRetry: ({ context }) => context.timing.retry.maxRetries === 0 || context.attempt <= context.timing.retry.maxRetries,
    pingOff: ({ context }) => context.timing.pingInterval === 0,
    keepaliveOff: ({ context }) => context.timing.keepaliveTimeout === 0,
    keepaliveExpired: ({ context }) =>
      !context.link.paused && context.now() - lastActivity(context) >= context.timing.keepaliveTimeout
  },
  actions: {
    recordChallenge: assign({ challenge: ({ event }) => (event as Extract<AuthFrame, { type: 'auth.challenge' }>).challenge }),
    // The signed answer goes straight from the signer's output to the socket; context never holds it.
    sendAnswer: ({ context, event }) => {
      context.link.sendFrame(JSON.stringify(['AUTH', (event as { output?: unknown }).output]));
    },
    recordDialFailure: assign(({ context, event }) => ({
      attempt: context.attempt + 1,
      dialFailures: context.dialFailures + 1,
      waitingAfter: 'dial_failed' as const,
      challenge: undefined,
      lastError: failureText(event as unknown as { type: string; [key: string]: unknown }, context)
    })),
    emitDialFailed: emit(({ context }) => ({
      type: 'dial_failed' as const,
      id: context.id,
      at: context.now(),
      attempt: context.attempt,
      error: context.lastError ?? 'unknown error'
    })),
    emitRetired: emit(({ context }) => ({ type: 'retired' as const, id: context.id, at: context.now(), attempts: context.attempt })),
    recordConnected: assign(({ context }) => ({ connectedAt: context.now(), connections: context.connections + 1, challenge: undefined })),
    emitConnected: emit(({ context }) => ({ type: 'connected' as const, id: context.id, at: context.now() })),
    recordConnectionEnd: assign(({ context }) => {
      const uptime = context.now() - (context.connectedAt ?? context.now());
      return { attempt: uptime >= context.timing.minUptime ? 0 : context.attempt + 1, waitingAfter: 'disconnected' as const, connectedAt: undefined };
    }),
    emitRemoteClose: emit(({ context, event }) => {
      const closed = event as Extract<WorkerEvent, { type: 'socket.closed' }>;
      return disconnected(context, closed.code, closed.reason, closed.cause);
    }),
    emitKeepaliveTimeout: emit(({ context }) => disconnected(context, 1006, 'keepalive timeout', 'keepalive_timeout')),
    emitSocketCrash: emit(({ context }) => disconnected(context, 1006, 'socket adapter failed', 'network_error')),
    emitLocalStop: emit(({ context }) => disconnected(context, 1000, 'worker stopped', 'local_stop')),
    sendPing: sendTo('socket', { type: 'socket.ping' }),
    sendCloseFrame: sendTo('socket', { type: 'socket.close', code: 1000, reason: 'worker stopped' })
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
    authTimeout: input.authTimeout ?? 10_000,
    challenge: undefined,
    attempt: 0,
    waitingAfter: 'dial_failed',
    connectedAt: undefined,
    connections: 0,
    dialFailures: 0,
    lastError: undefined
  }),
  // Before `connected` nothing was usable, so a stop is immediate and silent.
  on: { 'worker.stop': '.stopped' },
  states: {
    session: {
      invoke: { id: 'socket', src: 'socket', input: ({ context }) => ({ id: context.id, link: context.link }) },
      initial: 'dialing',
      states: {
        dialing: {
          tags: 'dialing',
          after: { handshakeTimeout: '#worker.failed' },
          on: {
            'socket.open': 'authenticating',
            'socket.failed': '#worker.failed',
            'xstate.error.actor.socket': '#worker.failed'
          }
        },
        // The socket is open but the peer is not usable yet: still `dialing` to the pool.
        authenticating: {
          tags: ['dialing', 'authenticating'],
          invoke: { id: 'authTap', src: 'authTap', input: ({ context }) => ({ link: context.link }) },
          after: { authTimeout: '#worker.failed' },
          on: {
            'auth.rejected': '#worker.failed',
            'socket.closed': '#worker.failed',
            'xstate.error.actor.socket': '#worker.failed'
          },
          initial: 'challenge',
          states: {
            challenge: { on: { 'auth.challenge': { target: 'signing', actions: 'recordChallenge' } } },
            signing: {
              invoke: {
                id: 'signer',
                src: 'signer',
                input: ({ context }) => ({ id: context.id, challenge: context.challenge ?? '' }),
                onDone: { target: 'answered', actions: 'sendAnswer' },
                onError: '#worker.failed'
              }
            },
            answered: { on: { 'auth.ok': '#worker.session.connected' } }
          }
        },
        connected: {
          tags: 'connected',
          type: 'parallel',
          entry: ['recordConnected', 'emitConnected'],
          on: {
            'socket.closed': { target: '#worker.backoff', actions: ['emitRemoteClose', 'recordConnectionEnd'] },
            'xstate.error.actor.socket': { target: '#worker.backoff', actions: ['emitSocketCrash', 'recordConnectionEnd'] },
            'worker.stop': { target: 'closing', actions: ['sendCloseFrame', 'emitLocalStop'] }
          },
          states: {
            ping: {
              initial: 'choosing',
              states: {
                choosing: { always: [{ guard: 'pingOff', target: 'off' }, { target: 'waiting' }] },
                waiting: { after: { pingDelay: { target: 'waiting', reenter: true, actions: 'sendPing' } } },
                off: {}
              }
            },
            keepalive: {
              initial: 'choosing',
              states: {
                choosing: { always: [{ guard: 'keepaliveOff', target: 'off' }, { target: 'watching' }] },
                watching: {
                  after: {
                    keepaliveDelay: [
                      { guard: 'keepaliveExpired', target: '#worker.backoff', actions: ['emitKeepaliveTimeout', 'recordConnectionEnd'] },
                      { target: 'watching', reenter: true }
                    ]
                  }
                },
                off: {}
              }
            }
          }
        },
        closing: {
          tags: 'closing',
          after: { closeTimeout: '#worker.stopped' },
          on: { 'socket.closed': '#worker.stopped', 'xstate.error.actor.socket': '#worker.stopped', 'worker.stop': {} }
        }
      }
    },
    failed: {
      tags: 'backoff',
      entry: ['recordDialFailure', 'emitDialFailed'],
      always: [{ guard: 'canRetry', target: 'backoff' }, { target: 'stopped', actions: 'emitRetired' }]
    },
    backoff: { tags: 'backoff', after: { dialDelay: 'session' } },
    stopped: { tags: 'stopped', type: 'final' }
  }
});
