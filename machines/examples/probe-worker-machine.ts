import { emit, fromCallback } from 'xstate';
import { keepaliveTimeoutEvent, workerMachine, type ConnectionLogic, type WorkerContext } from '../worker-machine.ts';

/** What the probe worker sends, and how it recognizes the answer. */
export interface ProbeSettings {
  /** The probe frame. @default '["PROBE"]' */
  message: string;
  /** Recognizes the answer; answers are consumed and never reach the inbox. @default data === message (an echo) */
  isAnswer: (data: string) => boolean;
}

/** Resolves probe settings, with the defaults filled in. */
export function probeSettings(input: Partial<ProbeSettings> = {}): ProbeSettings {
  const message = input.message ?? '["PROBE"]';
  return { message, isAnswer: input.isAnswer ?? ((data) => data === message) };
}

/** The `connection` hook of the probe worker: consumes probe answers for as long as the connection is up. */
function answerTap(isAnswer: (data: string) => boolean): ConnectionLogic {
  return fromCallback(({ input: { link } }) => {
    // The socket adapter has already counted the frame as activity, which is what keeps the connection alive.
    const tap = (data: string | Uint8Array): boolean => typeof data === 'string' && isAnswer(data);
    link.tap = tap;
    return () => {
      if (link.tap === tap) link.tap = undefined;
    };
  });
}

/**
 * Builds a probe worker: the default worker with an application-level probe
 * in place of ping frames, for peers or runtimes without them (a browser
 * `WebSocket` cannot send pings). The default ping and keepalive timers stay:
 * every `pingInterval` (±10 %) it sends `message` with `link.sendFrame`, and a
 * connection silent for `keepaliveTimeout` (no answer, no other frame) ends
 * with cause `keepalive_timeout`, reason `probe unanswered`, then reconnects
 * like the default worker. Answers are consumed by the `connection` hook's tap
 * and never reach the inbox.
 *
 * @example
 * ```ts
 * const logic = probeWorker({ message: '["REQ","probe",{"limit":0}]', isAnswer: (d) => d.startsWith('["EOSE","probe"') });
 * const pool = createPool({ pingInterval: 15_000, keepaliveTimeout: 20_000, workerFactory: workerFromMachine(logic) });
 * ```
 */
export function probeWorker(settings: Partial<ProbeSettings> = {}): typeof workerMachine {
  const { message, isAnswer } = probeSettings(settings);
  return workerMachine.provide({
    actors: { connection: answerTap(isAnswer) },
    guards: { hasConnectionHook: () => true },
    actions: {
      // If the socket is already gone, its `socket.closed` is on the way; nothing to do here.
      sendPing: ({ context }) => void context.link.sendFrame(message),
      emitKeepaliveTimeout: emit(({ context }: { context: WorkerContext }) => keepaliveTimeoutEvent(context, 'probe unanswered'))
    }
  });
}

/** The probe worker with the default probe: `["PROBE"]`, answered by its echo. */
export const probeWorkerMachine = probeWorker();
