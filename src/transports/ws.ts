import WebSocket, { type RawData } from 'ws';
import type { CloseCause } from '../../machines/worker-events.ts';
import { errorText } from '../errors.ts';
import { dialTarget, type Transport, type TransportListener, type TransportOpenOptions, type TransportSocket } from '../transport.ts';

const OPEN = 1;
const CLOSED = 3;

function noop(): void {}

/** Turns how a `ws` socket ended into a cause: ws's own protocol errors, network errors, or a clean close. */
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

/** A `ws` client with compression off, no redirects, and the caller's headers, subprotocols, payload limit and TLS options. */
function openWs(url: string, options: TransportOpenOptions): WebSocket {
  return new WebSocket(dialTarget(url), [...options.protocols], {
    headers: { ...options.headers },
    handshakeTimeout: options.handshakeTimeout,
    maxPayload: options.readLimit,
    perMessageDeflate: false,
    followRedirects: false,
    ...(options.tls as object | undefined)
  });
}

/**
 * One `ws` socket reporting to `listener`. ws always emits `'error'` before
 * `'close'`; the two collapse into the one terminal report sent on `'close'`.
 * The message listener is the only per-frame code: the frame's size is the
 * Buffer's length, so nothing is measured twice.
 */
function wsSocket(url: string, options: TransportOpenOptions, listener: TransportListener): TransportSocket {
  const socket = openWs(url, options);
  let opened = false;
  let finished = false;
  let lastError: unknown = undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  const socketOnMessage = (data: RawData, isBinary: boolean): void => {
    const bytes = data as Buffer;
    listener.onMessage(isBinary ? bytes : bytes.toString(), bytes.length);
  };
  const socketOnOpen = (): void => {
    opened = true;
    listener.onOpen();
  };
  const socketOnPong = (): void => listener.onPong();
  const socketOnError = (error: Error): void => {
    lastError = error;
    listener.onError(error.message);
    // After a protocol error ws waits 30 s for the peer to answer its close frame;
    // a hostile peer that never does would keep the worker "connected" all along.
    if (opened && !finished && graceTimer === undefined) {
      graceTimer = setTimeout(() => socket.terminate(), options.closeTimeout);
    }
  };
  const socketOnClose = (code: number, reason: Buffer): void => {
    finished = true;
    clearTimeout(graceTimer);
    if (!opened) {
      listener.onFail(lastError === undefined ? `closed with code ${code} before opening` : errorText(lastError));
      return;
    }
    listener.onClose(closeCodeOf(code, lastError), reason.toString(), classifyClose(code, lastError));
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
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    get isOpen() {
      return socket.readyState === OPEN;
    },
    send(data) {
      socket.send(data);
      return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    },
    ping: () => command(() => socket.ping()),
    close: (code, reason) => command(() => socket.close(code, reason)),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    release() {
      if (finished) return;
      finished = true;
      clearTimeout(graceTimer);
      socket.removeAllListeners();
      // close()/terminate() while CONNECTING emit 'error' on the next tick.
      socket.on('error', noop);
      if (socket.readyState !== CLOSED) socket.terminate();
    }
  };
}

/**
 * The Node transport: the `ws` package, with ping frames, pause/resume
 * (backpressure for `inboxOverflow: 'block'`), handshake headers and TLS
 * options. The default of `honeybee-pool/node` (and of `honeybee-pool` under
 * Node).
 *
 * @example
 * ```ts
 * import { createPool, wsTransport } from 'honeybee-pool/node';
 * const pool = createPool({ transport: wsTransport, headers: { Authorization: 'Bearer …' } });
 * ```
 */
export const wsTransport: Transport = Object.freeze({
  name: 'ws',
  canPing: true,
  canPause: true,
  canSetHeaders: true,
  canSetTls: true,
  open: wsSocket
});
