import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { InspectionEvent, Observer } from 'xstate';
import { InvalidOptionError } from '../errors.ts';
import { InspectionHub } from './hub.ts';
import { loadInspectorPage } from './page.ts';
import type { WatchablePool } from './stats.ts';

/** What `createInspector` accepts. */
export interface InspectorOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** The only interface the server binds to. @default '127.0.0.1' */
  host?: '127.0.0.1';
  /** The secret the page and its socket must present; at least 16 URL-safe characters. @default 24 random bytes, base64url */
  token?: string;
  /** Snapshots of one actor are sent at most once per this many ms (latest wins). @default 100 */
  throttleMs?: number;
  /** Timeline events replayed to a newly opened page, and finished actors kept. @default 500 */
  maxEvents?: number;
}

/** A running inspector. */
export interface Inspector {
  /** The page's address, token included: `http://127.0.0.1:PORT/?token=…`. */
  readonly url: string;
  /** The XState inspection observer: `createPool({ inspect: inspector.inspect })`. Serves any number of pools. */
  readonly inspect: Observer<InspectionEvent>;
  /** Also shows this pool's counters (`pool.stats()`, every second). Returns a function that stops watching. */
  watch(pool: WatchablePool): () => void;
  /**
   * Sends each page the last batch (final snapshots, a last summary of each watched pool), closes
   * the pages' sockets with 1001 and stops the server. Inspection events after this are ignored.
   */
  close(): Promise<void>;
}

// A page that cannot keep up is dropped (it reconnects and gets a fresh replay) rather than buffered forever.
const MAX_BUFFERED = 8 * 1024 * 1024;
const TOKEN_RULE = /^[A-Za-z0-9_-]{16,}$/;

/** The defaults of {@link InspectorOptions} (the token's default is random). */
export const INSPECTOR_DEFAULTS = { port: 0, host: '127.0.0.1', throttleMs: 100, maxEvents: 500 } as const;

function resolve(options: InspectorOptions): Required<InspectorOptions> {
  const { port, host, throttleMs, maxEvents } = { ...INSPECTOR_DEFAULTS, ...options };
  const token = options.token ?? randomBytes(24).toString('base64url');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError('port', 'an integer from 0 to 65535', port);
  if (host !== '127.0.0.1') throw new InvalidOptionError('host', "'127.0.0.1' (the inspector never listens on other interfaces)", host);
  if (typeof token !== 'string' || !TOKEN_RULE.test(token)) {
    // The value itself is a secret: describe it instead of echoing it.
    throw new InvalidOptionError('token', 'at least 16 characters from A-Z a-z 0-9 _ -', `<${String(token).length} characters>`);
  }
  if (!Number.isFinite(throttleMs) || throttleMs < 0) throw new InvalidOptionError('throttleMs', 'a number ≥ 0', throttleMs);
  if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new InvalidOptionError('maxEvents', 'a positive integer', maxEvents);
  return { port, host, token, throttleMs, maxEvents };
}

function tokenMatches(request: IncomingMessage, expected: Buffer): boolean {
  const given = Buffer.from(new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('token') ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const pathOf = (request: IncomingMessage): string => new URL(request.url ?? '/', 'http://127.0.0.1').pathname;

function securityHeaders(port: number): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The token is in the URL: never send it on as a referrer.
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src ws://127.0.0.1:${port} ws://localhost:${port}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
  };
}

function answer(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${text}\n`);
}

function servePage(page: string, expected: Buffer, request: IncomingMessage, response: ServerResponse): void {
  if (!tokenMatches(request, expected)) return answer(response, 403, 'Forbidden: wrong or missing token');
  if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'Method not allowed');
  if (pathOf(request) !== '/') return answer(response, 404, 'Not found');
  const port = (request.socket.address() as AddressInfo).port;
  response.writeHead(200, securityHeaders(port));
  response.end(request.method === 'HEAD' ? undefined : page);
}

function refuseUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A page's request, or `undefined` for anything else (which is ignored). */
function requestOf(data: unknown): { sessionId: string; id: string } | undefined {
  try {
    const request = JSON.parse(String(data)) as { type?: unknown; sessionId?: unknown; id?: unknown } | null;
    if (request?.type !== 'history' || typeof request.sessionId !== 'string' || typeof request.id !== 'string') return undefined;
    return { sessionId: request.sessionId, id: request.id };
  } catch {
    return undefined;
  }
}

/**
 * Streams the hub's batches to one page; a page that falls too far behind is
 * dropped. The page may ask for one peer's own history (`{ type: 'history',
 * sessionId, id }`, at most 1 KiB); nothing else it sends has any effect.
 */
function connectViewer(hub: InspectionHub, ws: WebSocket): void {
  ws.on('error', () => {});
  const send = (batch: string): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) ws.terminate();
    else ws.send(batch);
  };
  const detach = hub.attach(send);
  ws.on('message', (data) => {
    const request = requestOf(data);
    if (request !== undefined) send(JSON.stringify([hub.history(request.sessionId, request.id)]));
  });
  ws.on('close', detach);
}

// How long close() lets pages receive the last batch and answer the close frame.
const CLOSE_GRACE_MS = 500;

/** Closes every page's socket politely (1001, so the page can say the inspector closed), then terminates stragglers. */
async function closeViewers(wss: WebSocketServer): Promise<void> {
  const clients = [...wss.clients];
  const closed = clients.map((client) => new Promise<void>((done) => (client.readyState === client.CLOSED ? done() : client.once('close', () => done()))));
  for (const client of clients) client.close(1001, 'inspector closed');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise<void>((done) => (timer = setTimeout(done, CLOSE_GRACE_MS)))]);
  clearTimeout(timer);
  for (const client of clients) client.terminate();
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the offline inspector: an HTTP server on 127.0.0.1 that serves a
 * self-contained page (no CDN) and streams sanitised inspection events to it
 * over a WebSocket at `/ws`. Both require the token carried by `url`; a wrong
 * token gets 403. No payload, context object or URL credential is ever sent.
 *
 * @example
 * ```ts
 * const inspector = await createInspector();
 * const pool = createPool({ inspect: inspector.inspect });
 * inspector.watch(pool);
 * console.log(`open ${inspector.url}`);
 * // …
 * await pool.close();
 * await inspector.close();
 * ```
 */
export async function createInspector(options: InspectorOptions = {}): Promise<Inspector> {
  const resolved = resolve(options);
  const page = await loadInspectorPage();
  const expected = Buffer.from(resolved.token);
  const hub = new InspectionHub({ throttleMs: resolved.throttleMs, maxEvents: resolved.maxEvents, statsIntervalMs: 1000 });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const server = createServer((request, response) => servePage(page, expected, request, response));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    if (!tokenMatches(request, expected)) return refuseUpgrade(socket, '403 Forbidden');
    if (pathOf(request) !== '/ws') return refuseUpgrade(socket, '404 Not Found');
    wss.handleUpgrade(request, socket, head, (ws) => connectViewer(hub, ws));
  });
  const port = await listen(server, resolved.port, resolved.host);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${resolved.host}:${port}/?token=${encodeURIComponent(resolved.token)}`,
    inspect: hub.inspect,
    watch: (pool) => hub.watch(pool),
    close: () => {
      closing ??= (async () => {
        hub.close(); // sends the last batch first
        await closeViewers(wss);
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
      })();
      return closing;
    }
  };
}
