import type { RawData, WebSocket } from 'ws';
import { fromCallback } from 'xstate';
import type { CloseCause, SocketCommand, SocketEvent } from '../machines/worker-events.ts';
import type { SocketInput } from '../machines/worker-machine.ts';
import { errorText } from './errors.ts';
import { redactUrl } from './normalize-url.ts';
import { PeerLink } from './peer-link.ts';

const CLOSED = 3;

function noop(): void {}

/** Turns how a socket ended into a cause: ws's own protocol errors, network errors, or a clean close. */
export function classifyClose(code: number, error: unknown): CloseCause {
  const errorCode = (error as { code?: unknown } | undefined)?.code;
  if (errorCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 'read_limit';
  if (typeof errorCode === 'string' && errorCode.startsWith('WS_ERR_')) return 'remote_error';
  if (error !== undefined || code === 1006) return 'network_error';
  return 'remote_close';
}

// What ws sends on its own protocol errors (RFC 6455 §7.4.1); any other WS_ERR_* is a 1002.
const PROTOCOL_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009
};

/**
 * The code a connection ended with. On a protocol error (bad UTF-8, a frame
 * above the read limit…) ws sends the matching close code itself but stops
 * reading, so it never sees the peer's echo and reports 1006.
 */
export function closeCodeOf(code: number, error: unknown): number {
  const errorCode = (error as { code?: unknown } | undefined)?.code;
  if (code !== 1006 || typeof errorCode !== 'string' || !errorCode.startsWith('WS_ERR_')) return code;
  return PROTOCOL_CLOSE_CODES[errorCode] ?? 1002;
}

/** The dial error as text that is safe to log: no URL credentials. */
function dialErrorText(error: unknown, code: number): string {
  return redactUrl(error === undefined ? `closed with code ${code} before opening` : errorText(error));
}

/** The commands of one `ws` dial, as {@link dialWs} returns them. */
export interface WsDial {
  ping(): void;
  close(code: number, reason: string): void;
  /** Terminates whatever is left, silently: no report after it. */
  release(): void;
}

/**
 * One `ws` dial for a {@link PeerLink}: what `PeerLink.dial` runs.
 *
 * It reports `socket.open` / `socket.failed` / `socket.closed` to `report`
 * and answers pings and close frames. Received frames go straight into the
 * pool's inbox with counters bumped on the link — never through an actor
 * event, unless a machine has set `link.tap` to consume some of them. ws
 * always emits `'error'` before `'close'`; the two collapse into the one
 * terminal report sent on `'close'`.
 */
export function dialWs(link: PeerLink, report: (event: SocketEvent) => void): WsDial {
  const { inbox, now, id } = link;
  let socket: WebSocket;
  try {
    socket = link.options.dialer(id, link.dialOptions());
  } catch (error) {
    report({ type: 'socket.failed', error: dialErrorText(error, 1006) });
    return { ping: noop, close: noop, release: noop };
  }
  let opened = false;
  let finished = false;
  let lastError: unknown = undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  const resume = (): void => {
    if (finished || !link.paused) return;
    link.paused = false;
    link.lastActivityAt = now();
    socket.resume();
  };
  const socketOnMessage = (data: RawData, isBinary: boolean): void => {
    const bytes = data as Buffer;
    const at = now();
    const payload = isBinary ? bytes : bytes.toString();
    link.bytesIn += bytes.length;
    link.lastActivityAt = at;
    // A custom machine may consume its own protocol frames (an auth handshake, probe answers).
    if (link.tap !== undefined && link.tap(payload)) return;
    link.received += 1;
    link.lastMessageAt = at;
    if (!inbox.write(id, payload, at) && !link.paused) {
      // Backpressure: stop reading the TCP socket until the consumer catches up.
      link.paused = true;
      socket.pause();
      inbox.onDrain(resume);
    }
  };
  const socketOnOpen = (): void => {
    opened = true;
    link.attach(socket);
    report({ type: 'socket.open' });
  };
  const socketOnPong = (): void => {
    link.lastActivityAt = now();
  };
  const socketOnError = (error: Error): void => {
    lastError = error;
    link.lastError = redactUrl(error.message);
    // After a protocol error ws waits 30 s for the peer to answer its close frame;
    // a hostile peer that never does would keep the worker "connected" all along.
    if (opened && !finished && graceTimer === undefined) {
      graceTimer = setTimeout(() => socket.terminate(), link.options.closeTimeout);
    }
  };
  const socketOnClose = (code: number, reason: Buffer): void => {
    finished = true;
    clearTimeout(graceTimer);
    link.detach();
    link.paused = false;
    if (!opened) {
      report({ type: 'socket.failed', error: dialErrorText(lastError, code) });
      return;
    }
    const cause = classifyClose(code, lastError);
    report({ type: 'socket.closed', code: closeCodeOf(code, lastError), reason: reason.toString(), cause });
  };

  socket.on('open', socketOnOpen);
  socket.on('message', socketOnMessage);
  socket.on('pong', socketOnPong);
  socket.on('error', socketOnError);
  socket.on('close', socketOnClose);

  // ws throws on a socket that is not open yet; such a failure ends like a socket error.
  const command = (run: () => void): void => {
    if (finished || !opened) return;
    try {
      run();
    } catch (error) {
      socketOnError(error as Error);
    }
  };
  return {
    ping: () => command(() => socket.ping()),
    close: (code, reason) =>
      command(() => {
        link.detach();
        socket.close(code, reason);
        // A socket paused for backpressure could never read the peer's close reply.
        if (link.paused) resume();
      }),
    release: () => {
      if (finished) return;
      finished = true;
      clearTimeout(graceTimer);
      link.detach();
      link.paused = false;
      socket.removeAllListeners();
      // close()/terminate() while CONNECTING emit 'error' on the next tick.
      socket.on('error', noop);
      if (socket.readyState !== CLOSED) socket.terminate();
    }
  };
}

/**
 * The `ws` socket as an actor, for a custom machine that invokes its socket
 * instead of dialing through its link: it runs `link.dial` when started,
 * answers `socket.ping` / `socket.close`, and releases the link when stopped.
 * The default worker machine does not need it (it dials through the link).
 * As for any machine, whoever runs the actor releases the link when it
 * fails (XState stops no child of a failed machine, statelyai/xstate#5433);
 * `MachineWorker` does.
 *
 * @example
 * ```ts
 * const myMachine = setup({ actors: { socket: wsSocketLogic } }).createMachine({
 *   invoke: { src: 'socket', input: ({ context }) => ({ id: context.id, link: context.link }) }
 * });
 * ```
 */
export const wsSocketLogic = fromCallback<SocketCommand, SocketInput>(({ input, sendBack, receive }) => {
  if (!(input.link instanceof PeerLink)) {
    throw new TypeError('wsSocketLogic needs a PeerLink; provide your own socket actor for other links');
  }
  const link = input.link;
  link.dial(sendBack);
  receive((command) => {
    if (command.type === 'socket.ping') link.ping();
    else link.close(command.code, command.reason);
  });
  return () => link.release();
});
