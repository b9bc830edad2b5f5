import { assign, emit, fromCallback, sendTo, setup, type EventObject } from 'xstate';
import type { FrameLink } from '../frame-link.ts';
import type { CloseCause, SocketCommand, WorkerEmitted, WorkerEvent } from '../worker-events.ts';
import { nextDialDelay, type SocketInput, type WorkerContext, type WorkerInput, type WorkerTag } from '../worker-machine.ts';

/** How the probe worker checks that a peer is alive. All durations are milliseconds. */
export interface ProbeSettings {
  /** Quiet time between an answer and the next probe; 0 turns probing off. @default 20000 */
  interval: number;
  /** How long a probe may wait for its answer before the connection is declared dead. @default 10000 */
  timeout: number;
  /** The probe frame. @default '["PROBE"]' */
  message: string;
  /** Recognizes the answer; answers are consumed and never reach the inbox. @default data === message (an echo) */
  isAnswer: (data: string) => boolean;
}

/** Input of {@link probeWorkerMachine}. */
export interface ProbeWorkerInput extends Omit<WorkerInput, 'link'> {
  link: FrameLink;
  probe?: Partial<ProbeSettings>;
}

/** The probe worker's context: the default worker's, plus the resolved probe settings. */
export interface ProbeWorkerContext extends WorkerContext {
  link: FrameLink;
  probe: ProbeSettings;
}

type ProbeWorkerEvent = WorkerEvent | { type: 'probe.answer' };

/** Resolves the probe settings of an input, with the defaults filled in. */
export function probeSettings(input: Partial<ProbeSettings> = {}): ProbeSettings {
  const message = input.message ?? '["PROBE"]';
  return {
    interval: input.interval ?? 20_000,
    timeout: input.timeout ?? 10_000,
    message,
    isAnswer: input.isAnswer ?? ((data) => data === message)
  };
}

/** Turns probe answers into `probe.answer` events for as long as the connection is up. */
const probeTapLogic = fromCallback<EventObject, { link: FrameLink; isAnswer: (data: string) => boolean }>(
  ({ input, sendBack }) => {
    const { link, isAnswer } = input;
    const tap = (data: string | Uint8Array): boolean => {
      if (typeof data !== 'string' || !isAnswer(data)) return false;
      sendBack({ type: 'probe.answer' });
      return true;
    };
    link.tap = tap;
    return () => {
      if (link.tap === tap) link.tap = undefined;
    };
  }
);

function failureText(event: { type: string; error?: unknown }, context: ProbeWorkerContext): string {
  if (event.type === 'socket.failed') return String(event.error);
  if (event.type.startsWith('xstate.after')) return `handshake timed out after ${context.timing.handshakeTimeout} ms`;
  return event.error instanceof Error ? event.error.message : String(event.error ?? event.type);
}

function disconnected(context: ProbeWorkerContext, code: number, reason: string, cause: CloseCause): WorkerEmitted {
  return { type: 'disconnected', id: context.id, at: context.now(), code, reason, cause };
}

/**
 * A worker whose liveness check is an application-level probe instead of
 * ping frames, for peers or runtimes without them (a browser `WebSocket`
 * cannot send pings). While connected it sends `probe.message` after every
 * `probe.interval` of quiet and waits `probe.timeout` for an answer; no
 * answer ends the connection with cause `keepalive_timeout`, then it
 * reconnects like the default worker. Answers are consumed by a tap on the
 * link and never reach the inbox. The pool's `pingInterval` and
 * `keepaliveTimeout` are not used.
 *
 * @example
 * ```ts
 * const logic = probeWorkerMachine.provide({ actors: { socket: wsSocketLogic } });
 * const factory = workerFromMachine(logic, {
 *   input: { probe: { interval: 15_000, timeout: 5_000, message: '["REQ","probe",{"limit":0}]', isAnswer: (d) => d.startsWith('["EOSE","probe"') } }
 * });
 * ```
 */
export const probeWorkerMachine = setup({
  types: {
    context: {} as ProbeWorkerContext,
    input: {} as ProbeWorkerInput,
    events: {} as ProbeWorkerEvent,
    emitted: {} as WorkerEmitted,
    tags: {} as WorkerTag | 'probing'
  },
  actors: {
    socket: fromCallback<SocketCommand, SocketInput>(() => () => {}),
    probeTap: probeTapLogic
  },
  delays: {
    handshakeTimeout: ({ context }) => context.timing.handshakeTimeout,
    dialDelay: ({ context }) => nextDialDelay(context),
    probeInterval: ({ context }) => context.probe.interval,
    probeTimeout: ({ context }) => context.probe.timeout,
    closeTimeout: ({ context }) => context.timing.closeTimeout
  },
  guards: {
    canRetry: ({ context }) => context.timing.retry.maxRetries === 0 || context.attempt <= context.timing.retry.maxRetries,
    probeOff: ({ context }) => context.probe.interval === 0
  },
  actions: {
    sendProbe: ({ context }) => {
      // If the socket is already gone, its `socket.closed` is on the way; nothing to do here.
      context.link.sendFrame(context.probe.message);
    },
    recordDialFailure: assign(({ context, event }) => ({
      attempt: context.attempt + 1,
      dialFailures: context.dialFailures + 1,
      waitingAfter: 'dial_failed' as const,
      lastError: failureText(event as { type: string; error?: unknown }, context)
    })),
    emitDialFailed: emit(({ context }) => ({
      type: 'dial_failed' as const,
      id: context.id,
      at: context.now(),
      attempt: context.attempt,
      error: context.lastError ?? 'unknown error'
    })),
    emitRetired: emit(({ context }) => ({ type: 'retired' as const, id: context.id, at: context.now(), attempts: context.attempt })),
    recordConnected: assign(({ context }) => ({ connectedAt: context.now(), connections: context.connections + 1 })),
    emitConnected: emit(({ context }) => ({ type: 'connected' as const, id: context.id, at: context.now() })),
    recordConnectionEnd: assign(({ context }) => {
      const uptime = context.now() - (context.connectedAt ?? context.now());
      return { attempt: uptime >= context.timing.minUptime ? 0 : context.attempt + 1, waitingAfter: 'disconnected' as const, connectedAt: undefined };
    }),
    emitRemoteClose: emit(({ context, event }) => {
      const closed = event as Extract<WorkerEvent, { type: 'socket.closed' }>;
      return disconnected(context, closed.code, closed.reason, closed.cause);
    }),
    emitProbeTimeout: emit(({ context }) => disconnected(context, 1006, 'probe unanswered', 'keepalive_timeout')),
    emitSocketCrash: emit(({ context }) => disconnected(context, 1006, 'socket adapter failed', 'network_error')),
    emitLocalStop: emit(({ context }) => disconnected(context, 1000, 'worker stopped', 'local_stop')),
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
    probe: probeSettings(input.probe),
    attempt: 0,
    waitingAfter: 'dial_failed',
    connectedAt: undefined,
    connections: 0,
    dialFailures: 0,
    lastError: undefined
  }),
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
            'socket.open': 'connected',
            'socket.failed': '#worker.failed',
            'xstate.error.actor.socket': '#worker.failed'
          }
        },
        connected: {
          tags: 'connected',
          entry: ['recordConnected', 'emitConnected'],
          invoke: {
            id: 'probeTap',
            src: 'probeTap',
            input: ({ context }) => ({ link: context.link, isAnswer: context.probe.isAnswer })
          },
          on: {
            'socket.closed': { target: '#worker.backoff', actions: ['emitRemoteClose', 'recordConnectionEnd'] },
            'xstate.error.actor.socket': { target: '#worker.backoff', actions: ['emitSocketCrash', 'recordConnectionEnd'] },
            'worker.stop': { target: 'closing', actions: ['sendCloseFrame', 'emitLocalStop'] }
          },
          initial: 'choosing',
          states: {
            choosing: { always: [{ guard: 'probeOff', target: 'off' }, { target: 'quiet' }] },
            quiet: { after: { probeInterval: 'probing' } },
            // The probe is out; its answer, and only its answer, proves the peer alive.
            probing: {
              tags: 'probing',
              entry: 'sendProbe',
              after: { probeTimeout: { target: '#worker.backoff', actions: ['emitProbeTimeout', 'recordConnectionEnd'] } },
              on: { 'probe.answer': 'quiet' }
            },
            off: {}
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
