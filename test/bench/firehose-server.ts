/**
 * The peer every benchmark client talks to, run as its own process so the
 * sender never shares a CPU budget with the client being measured.
 *
 * What a connection gets is chosen by its query string:
 * - `n=<count>` pre-framed text frames written straight to the TCP socket
 *   (`n=inf`: until the client goes away), so the server is never the
 *   bottleneck; `n=0` or none: an idle connection;
 * - `wait=1`: start only after the client's first message (a Nostr `REQ`);
 * - `g=<group>&of=<size>`: start only once `size` connections of the group are
 *   ready, so every client has finished connecting before the first frame;
 * - `mode=sink`: read and discard whatever the client sends, unparsed.
 *
 * `GET /stats` answers `{ "connections": <open>, "pings": <received> }`. Prints
 * `{ port, payloadBytes }` on stdout once listening.
 *
 * With `--signed <file>` (see signed-events.ts) the frames are the file's
 * relay messages, signed Nostr events, replayed round-robin instead of the
 * one fixed message. `--host` picks the loopback address to listen on
 * (127.0.0.1 by default; only 127.0.0.0/8 is accepted).
 *
 * usage: tsx firehose-server.ts [--port <port>] [--host 127.x.y.z] [--signed <file>]
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A Nostr `EVENT` relay message that passes nostr-tools' checks when verification is off. */
const PAYLOAD = JSON.stringify([
  'EVENT',
  'sub',
  {
    id: 'a'.repeat(64),
    pubkey: 'b'.repeat(64),
    created_at: 1_700_000_000,
    kind: 1,
    tags: [],
    content: 'hello honeybee',
    sig: 'c'.repeat(128)
  }
]);
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const signedFile = option('signed');
/** What the frames carry, in turn. */
const PAYLOADS = signedFile === undefined ? [PAYLOAD] : readFileSync(signedFile, 'utf8').split('\n').filter(Boolean);
const BATCH = Math.max(1000, PAYLOADS.length);

/** One unmasked server-to-client text frame (payload < 64 KiB). */
function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = body.length < 126 ? Buffer.from([0x81, body.length]) : Buffer.from([0x81, 126, body.length >> 8, body.length & 255]);
  return Buffer.concat([header, body]);
}

function frames(count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, i) => frame(PAYLOADS[i % PAYLOADS.length]!)));
}

const batch = frames(BATCH);
const remainders = new Map<number, Buffer>();
const groups = new Map<string, Array<() => void>>();
let connections = 0;
let pings = 0;

function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/** Writes `total` frames (Infinity: until the socket closes), honouring TCP backpressure. */
function pump(raw: Socket, total: number): void {
  let sent = 0;
  const next = (): void => {
    while (sent < total && !raw.destroyed) {
      const left = total - sent;
      let chunk = batch;
      if (left < BATCH) {
        chunk = remainders.get(left) ?? frames(left);
        remainders.set(left, chunk);
      }
      sent += Math.min(left, BATCH);
      if (!raw.write(chunk)) {
        raw.once('drain', next);
        return;
      }
    }
  };
  next();
}

function whenGroupReady(group: string | null, size: number, start: () => void): void {
  if (group === null || size <= 1) return start();
  const waiting = groups.get(group) ?? [];
  waiting.push(start);
  groups.set(group, waiting);
  if (waiting.length < size) return;
  groups.delete(group);
  for (const go of waiting) go();
}

const http = createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ connections, pings }));
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });

wss.on('connection', (ws, request) => {
  connections++;
  ws.on('close', () => connections--);
  ws.on('error', () => {});
  ws.on('ping', () => pings++);
  const query = new URL(request.url ?? '/', 'ws://x').searchParams;
  const raw = rawSocket(ws);
  if (query.get('mode') === 'sink') {
    // Skip ws's frame parser entirely: the server must never slow the sender down.
    raw.removeAllListeners('data');
    raw.on('data', () => {});
    raw.on('close', () => ws.terminate());
    return;
  }
  const countText = query.get('n') ?? '0';
  const total = countText === 'inf' ? Infinity : Number(countText);
  if (!(total > 0)) return;
  const ready = (): void => whenGroupReady(query.get('g'), Number(query.get('of') ?? '1'), () => pump(raw, total));
  if (query.get('wait') === '1') ws.once('message', ready);
  else ready();
});

const port = Number(option('port') ?? 0);
const host = option('host') ?? '127.0.0.1';
if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`--host must be a loopback address (127.0.0.0/8), not ${host}`);
// A deep accept backlog: 10 000 clients dial at once, and a dropped SYN costs a 1 s retransmit.
http.listen({ host, port, backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (http.address() as AddressInfo).port, payloadBytes: PAYLOADS[0]!.length })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
