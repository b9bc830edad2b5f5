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

/**
 * A `ws` client with compression off, no redirects, and the caller's headers,
 * subprotocols, payload limit and TLS options. It sets no handshake timer of
 * its own: the worker machine bounds every dial with `handshakeTimeout` (its
 * `dialing` state) and releases the socket when it runs out, and a `ws`
 * handshake timer would leave a cleared `Timeout` on every connected socket.
 */
function openWs(url: string, options: TransportOpenOptions): WebSocket {
  return new WebSocket(dialTarget(url), [...options.protocols], {
    headers: { ...options.headers },
    maxPayload: options.readLimit,
    perMessageDeflate: false,
    followRedirects: false,
    ...(options.tls as object | undefined)
  });
}

// The ws socket's own reference to the WsSocket it reports for: the listeners
// below are shared by every socket and find their WsSocket through it, as ws's
// own listeners find their WebSocket through `this`.
const OWNER = Symbol('honeybee.wsSocket');
type OwnedWebSocket = WebSocket & { [OWNER]: WsSocket };
const ownerOf = (socket: WebSocket): WsSocket => (socket as OwnedWebSocket)[OWNER];

function socketOnMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const bytes = data as Buffer;
  ownerOf(this).listener.onMessage(isBinary ? bytes : bytes.toString(), bytes.length);
}

// Text frames as their bytes (a Buffer), binary frames as a plain Uint8Array view, so the
// two stay apart without decoding: for a shard thread that forwards frames undecoded.
function socketOnMessageBytes(this: WebSocket, data: RawData, isBinary: boolean): void {
  const bytes = data as Buffer;
  ownerOf(this).listener.onMessage(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes, bytes.length);
}

function socketOnOpen(this: WebSocket): void {
  const owner = ownerOf(this);
  owner.opened = true;
  owner.listener.onOpen();
}

function socketOnPong(this: WebSocket): void {
  ownerOf(this).listener.onPong();
}

function socketOnError(this: WebSocket, error: Error): void {
  ownerOf(this).failed(error);
}

function socketOnClose(this: WebSocket, code: number, reason: Buffer): void {
  ownerOf(this).closed(code, reason);
}

/**
 * One `ws` socket reporting to `listener`. ws always emits `'error'` before
 * `'close'`; the two collapse into the one terminal report sent on `'close'`.
 * The message listener is the only per-frame code: the frame's size is the
 * Buffer's length, so nothing is measured twice. A class with shared
 * listeners, not closures: one small object per dial.
 */
class WsSocket implements TransportSocket {
  opened = false;
  #finished = false;
  #lastError: unknown = undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly #socket: OwnedWebSocket;

  constructor(
    url: string,
    readonly options: TransportOpenOptions,
    readonly listener: TransportListener,
    onMessage: typeof socketOnMessage = socketOnMessage
  ) {
    const socket = openWs(url, options) as OwnedWebSocket;
    socket[OWNER] = this;
    socket.on('open', socketOnOpen);
    socket.on('message', onMessage);
    socket.on('pong', socketOnPong);
    socket.on('error', socketOnError);
    socket.on('close', socketOnClose);
    this.#socket = socket;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.#socket.readyState === OPEN;
  }

  send(data: string | Uint8Array | ArrayBuffer): number {
    this.#socket.send(data);
    return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  }

  // ws throws on a socket that is not open yet; such a failure ends like a socket error.
  ping(): void {
    if (this.#finished || !this.opened) return;
    try {
      this.#socket.ping();
    } catch (error) {
      this.failed(error as Error);
    }
  }

  close(code: number, reason: string): void {
    if (this.#finished || !this.opened) return;
    try {
      this.#socket.close(code, reason);
    } catch (error) {
      this.failed(error as Error);
    }
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  release(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#graceTimer);
    const socket = this.#socket;
    socket.removeAllListeners();
    // close()/terminate() while CONNECTING emit 'error' on the next tick.
    socket.on('error', noop);
    if (socket.readyState !== CLOSED) socket.terminate();
  }

  /** ws reported an error (the close follows), or a command threw. */
  failed(error: Error): void {
    this.#lastError = error;
    this.listener.onError(error.message);
    // After a protocol error ws waits 30 s for the peer to answer its close frame;
    // a hostile peer that never does would keep the worker "connected" all along.
    if (this.opened && !this.#finished && this.#graceTimer === undefined) {
      const socket = this.#socket;
      this.#graceTimer = setTimeout(() => socket.terminate(), this.options.closeTimeout);
    }
  }

  /** ws reported the end of the socket. */
  closed(code: number, reason: Buffer): void {
    this.#finished = true;
    clearTimeout(this.#graceTimer);
    const lastError = this.#lastError;
    if (!this.opened) {
      this.listener.onFail(lastError === undefined ? `closed with code ${code} before opening` : errorText(lastError));
      return;
    }
    this.listener.onClose(closeCodeOf(code, lastError), reason.toString(), classifyClose(code, lastError));
  }
}

function wsSocket(url: string, options: TransportOpenOptions, listener: TransportListener): TransportSocket {
  return new WsSocket(url, options, listener);
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

/**
 * `wsTransport` that hands text frames on undecoded, as a `Buffer` of their
 * UTF-8 bytes (binary frames as a plain `Uint8Array`, so `Buffer.isBuffer`
 * tells them apart). Internal: a shard thread running the default worker and
 * no `process` forwards frames as bytes and the main thread decodes them,
 * which spares the thread a decode and a string copy per frame.
 */
export const wsBytesTransport: Transport = Object.freeze({
  ...wsTransport,
  name: 'ws',
  open: (url: string, options: TransportOpenOptions, listener: TransportListener): TransportSocket => new WsSocket(url, options, listener, socketOnMessageBytes)
});
