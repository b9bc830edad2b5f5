import type { CloseCause } from '../machines/worker-events.ts';

/**
 * What a {@link Transport} can do beyond opening a socket, sending, receiving
 * and closing. The pool refuses, at `createPool`/`connect`, every option that
 * needs a capability the transport lacks (`UnsupportedOptionError`), and picks
 * its defaults by them.
 */
export interface TransportCapabilities {
  /** Sends WebSocket ping frames (and hears pongs). Without it the default worker is the probe worker. */
  readonly canPing: boolean;
  /** Stops and restarts reading a socket: needed by `inboxOverflow: 'block'`. */
  readonly canPause: boolean;
  /** Sets headers on the opening handshake (`headers`, the default `User-Agent`). */
  readonly canSetHeaders: boolean;
  /** Takes TLS options for `wss://` (`tls`). */
  readonly canSetTls: boolean;
  /**
   * The most sockets one page or process may hold, if the runtime caps them
   * (Chromium: 255 per page). The pool warns when asked for more.
   */
  readonly socketLimit?: number;
}

/** What a transport is asked to open. */
export interface TransportOpenOptions {
  headers: Readonly<Record<string, string>>;
  protocols: readonly string[];
  /** The opening handshake must finish within this many ms, or the open fails. */
  handshakeTimeout: number;
  /** The largest message accepted, in bytes (0 = unlimited); a larger one closes the socket with 1009, cause `read_limit`. */
  readLimit: number;
  /** After a protocol error, how long to wait for the peer's close reply before dropping the socket. */
  closeTimeout: number;
  tls: TlsOptions | undefined;
}

/** Options handed to the TLS handshake of `wss://` peers (transports with `canSetTls`). */
export interface TlsOptions {
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  rejectUnauthorized?: boolean;
}

/**
 * Where a socket reports, one call per thing that happened. A link passes
 * itself; the methods are called on it directly (no event objects on the
 * data path).
 *
 * The order is fixed: `onOpen` then any number of `onMessage` / `onPong` /
 * `onError`, then one `onClose`; or one `onFail` if the socket never opened.
 * Nothing is called from inside `open()` and nothing after `release()`.
 */
export interface TransportListener {
  /** The handshake completed; `send` works from now on. */
  onOpen(): void;
  /** One inbound message: a string for text, a Uint8Array for binary; `byteLength` is its size on the wire. */
  onMessage(data: string | Uint8Array, byteLength: number): void;
  /** A pong (or another sign of life that is not a message) arrived. */
  onPong(): void;
  /** Something went wrong; `onClose` or `onFail` follows. `message` may hold a URL: the listener redacts it. */
  onError(message: string): void;
  /** The socket never opened: refused, HTTP error, TLS error, handshake timeout. */
  onFail(error: string): void;
  /** The open socket closed (`code` as the peer or the runtime gave it). */
  onClose(code: number, reason: string, cause: CloseCause): void;
}

/** One socket a {@link Transport} opened. */
export interface TransportSocket {
  /** Bytes queued for sending and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** True while the socket is open (messages can be sent). */
  readonly isOpen: boolean;
  /** Sends one message and returns its size in bytes; throws if the socket refuses it. */
  send(data: string | Uint8Array | ArrayBuffer): number;
  /** Sends a ping frame (only called when the transport `canPing`); a no-op unless open. */
  ping(): void;
  /** Starts the closing handshake; `onClose` follows. A no-op unless open. */
  close(code: number, reason: string): void;
  /** Stops reading (only called when the transport `canPause`). */
  pause(): void;
  /** Reads again after `pause`. */
  resume(): void;
  /** Drops the socket at once, whatever its state; the listener hears nothing more. */
  release(): void;
}

/**
 * How a worker opens its WebSockets: the one seam between honeybee and a
 * WebSocket implementation. Two ship: `wsTransport` (Node, the `ws` package;
 * `honeybee-pool/node`) and `webSocketTransport()` (the standard `WebSocket`
 * of browsers, Deno, Bun and Node 22). Pass one as the `transport` option.
 *
 * @example
 * ```ts
 * import { createPool, webSocketTransport } from 'honeybee-pool';
 * const pool = createPool({ transport: webSocketTransport(MyWebSocket) });
 * ```
 */
export interface Transport extends TransportCapabilities {
  /** A short name for messages and logs: `'ws'`, `'web-socket'`. */
  readonly name: string;
  /**
   * Opens one socket to `url` (a peer id; the transport drops its `#fragment`)
   * reporting to `listener`. May throw (a bad URL, say): that is a failed dial.
   */
  open(url: string, options: TransportOpenOptions, listener: TransportListener): TransportSocket;
}

/** The URL a WebSocket handshake may carry: peer ids keep a `#fragment`, the handshake may not. */
export function dialTarget(url: string): string {
  const hashAt = url.indexOf('#');
  return hashAt === -1 ? url : url.slice(0, hashAt);
}

/**
 * The UTF-8 size of a string in bytes, without encoding it (lone surrogates
 * count 3 bytes, as `TextEncoder` writes U+FFFD for them).
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 UTF-16 units, 4 bytes.
      bytes += 2;
      i += 1;
    } else bytes += 2;
  }
  return bytes;
}
