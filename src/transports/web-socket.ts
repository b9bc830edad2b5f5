import type { CloseCause } from '../../machines/worker-events.ts';
import { InvalidOptionError } from '../errors.ts';
import { dialTarget, utf8Length, type Transport, type TransportListener, type TransportOpenOptions, type TransportSocket } from '../transport.ts';

/**
 * An event handler slot. Written as a method type so that a class whose
 * handlers take a richer event (the DOM's `MessageEvent`, `ws`'s own event
 * types) still fits: the transport only ever reads the fields named here.
 */
type Handler<E> = { bivariant(event: E): void }['bivariant'] | null;

/** The part of a standard `WebSocket` this transport uses (browsers, Deno, Bun, Node 22, and `ws`'s class). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onerror: Handler<unknown>;
  onclose: Handler<{ code: number; reason: string }>;
  send(data: string | Uint8Array | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

/** A standard `WebSocket` constructor: the global one, or `ws`'s class (`import { WebSocket } from 'ws'`) as is. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

function ignore(): void {}

const CONNECTING = 0;
const OPEN = 1;
// Chromium refuses the 256th WebSocket of a page (kMaxWebSocketsPerRenderProcess).
const PAGE_SOCKET_LIMIT = 255;

// A script can only send 1000 or 3000–4999 in a close frame; anything else throws.
function sendableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

/**
 * One standard WebSocket reporting to `listener`. The browser hides why a
 * socket failed, so failures say only the close code; the opening handshake
 * and `readLimit` are enforced here, since the API has neither.
 */
function webSocket(Ctor: WebSocketConstructor, url: string, options: TransportOpenOptions, listener: TransportListener): TransportSocket {
  const socket = new Ctor(dialTarget(url), [...options.protocols]);
  socket.binaryType = 'arraybuffer';
  const { readLimit } = options;
  let opened = false;
  let finished = false;
  let errored = false;
  let tooBig = false;

  const detach = (): void => {
    finished = true;
    clearTimeout(handshakeTimer);
    socket.onopen = null;
    socket.onmessage = null;
    // Closing a socket that is still connecting reports an error later (ws's class throws it
    // when nobody listens): keep a listener that ignores it.
    socket.onerror = ignore;
    socket.onclose = null;
  };
  const handshakeTimer = setTimeout(() => {
    detach();
    socket.close();
    listener.onFail(`handshake not done within ${options.handshakeTimeout} ms`);
  }, options.handshakeTimeout);

  socket.onopen = () => {
    opened = true;
    clearTimeout(handshakeTimer);
    listener.onOpen();
  };
  socket.onmessage = (event) => {
    if (tooBig) return;
    const data = event.data;
    const text = typeof data === 'string';
    const payload = text ? data : new Uint8Array(data as ArrayBuffer);
    const bytes = text ? utf8Length(data) : (payload as Uint8Array).byteLength;
    if (readLimit > 0 && bytes > readLimit) {
      // The browser already read it; what the limit still protects is everything downstream.
      tooBig = true;
      listener.onError(`message of ${bytes} bytes is above readLimit (${readLimit})`);
      // Scripts may only send 1000 or 3000–4999; 4009 mirrors 1009. The worker is told 1009.
      socket.close(4009, 'message too big');
      return;
    }
    listener.onMessage(payload, bytes);
  };
  socket.onerror = () => {
    errored = true;
    listener.onError('WebSocket error');
  };
  socket.onclose = (event) => {
    detach();
    if (!opened) {
      listener.onFail(`connection failed (closed with code ${event.code} before opening)`);
      return;
    }
    const cause: CloseCause = tooBig ? 'read_limit' : errored || event.code === 1006 ? 'network_error' : 'remote_close';
    listener.onClose(tooBig ? 1009 : event.code, event.reason, cause);
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
      return typeof data === 'string' ? utf8Length(data) : data.byteLength;
    },
    // No ping frames and no pausing in this API: the pool never asks (canPing / canPause are false).
    ping() {},
    pause() {},
    resume() {},
    close(code, reason) {
      if (!finished && opened && socket.readyState === OPEN) socket.close(sendableCode(code), reason);
    },
    release() {
      if (finished) return;
      detach();
      if (socket.readyState === CONNECTING || socket.readyState === OPEN) socket.close();
    }
  };
}

/**
 * The standard `WebSocket` transport: browsers, Deno, Bun, Node 22's global,
 * or any class with the same API (pass it as `WebSocketCtor`). It cannot send
 * ping frames, pause reading, set handshake headers or take TLS options, so
 * the pool refuses `headers`, `tls`, `inboxOverflow: 'block'` and ping-frame
 * workers with it, and its default worker is the probe worker (see
 * docs/browser.md). In a web page it carries Chromium's cap of 255 sockets.
 *
 * @param WebSocketCtor - the constructor to use; default `globalThis.WebSocket`.
 * @throws InvalidOptionError when no constructor is given and the runtime has no global `WebSocket`.
 * @example
 * ```ts
 * import { createPool, webSocketTransport } from 'honeybee-pool/web';
 * const pool = createPool({ transport: webSocketTransport() });
 * ```
 */
export function webSocketTransport(WebSocketCtor?: WebSocketConstructor): Transport {
  const Ctor = WebSocketCtor ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof Ctor !== 'function') {
    throw new InvalidOptionError(
      'transport',
      'given a WebSocket constructor on a runtime without a global WebSocket (pass one: webSocketTransport(WebSocket), or use wsTransport from honeybee-pool/node)',
      Ctor
    );
  }
  const inPage = typeof (globalThis as { document?: unknown }).document === 'object';
  return Object.freeze({
    name: 'web-socket',
    canPing: false,
    canPause: false,
    canSetHeaders: false,
    canSetTls: false,
    ...(inPage ? { socketLimit: PAGE_SOCKET_LIMIT } : {}),
    open: (url: string, options: TransportOpenOptions, listener: TransportListener) => webSocket(Ctor, url, options, listener)
  });
}
