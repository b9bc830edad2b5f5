/**
 * The peer server of the fault-injection suite, in its own process (forked
 * by the runner with `--import tsx`): a ws server on 127.0.0.1 port 0
 * playing `PATHS` peers (`/p0` …), independent of the library. It numbers
 * every connection (`c`, server-wide) and every frame it sends on one (`s`,
 * from 0), and logs to `LOG` (JSONL) every open (with the dialing shard and
 * process, read from the handshake headers the shard's pool sends), every
 * frame sent, every echo received and every close, each with its own
 * clock's time. IPC: it reports `{ port }` when listening; `'quiet'` stops
 * the frames (the run is ending), `'exit'` flushes the log and exits.
 */
import { createWriteStream } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const env = process.env;
const intervalMs = Number(env.INTERVAL ?? 500);
const log = createWriteStream(env.LOG as string, { flags: 'a' });
const write = (record: Record<string, unknown>): void => void log.write(`${JSON.stringify({ src: 'peer', t: Date.now(), ...record })}\n`);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
const live = new Map<WebSocket, { c: number; s: number }>();
let next = 0;
let quiet = false;

const emit = (socket: WebSocket, state: { c: number; s: number }, echo?: string): void => {
  const t = Date.now();
  const frame = { c: state.c, s: state.s, t, ...(echo === undefined ? {} : { echo }) };
  write({ k: 'frame', c: state.c, s: state.s, ...(echo === undefined ? {} : { echo }) });
  state.s++;
  socket.send(JSON.stringify(frame));
};

wss.on('connection', (socket, request) => {
  const state = { c: next++, s: 0 };
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  write({ k: 'open', c: state.c, p: request.url ?? '/', shard: header('x-shard'), inc: Number(header('x-incarnation') ?? 0), port: request.socket.remotePort });
  live.set(socket, state);
  // When the shard's close frame arrives (ws has no public event for it: its receiver's 'conclude'),
  // the connection is closing: frames sent from then on cross that close frame and may be dropped.
  (socket as unknown as { _receiver?: { on(event: string, listener: () => void): void } })._receiver?.on('conclude', () => write({ k: 'closing', c: state.c }));
  socket.on('error', () => {});
  socket.on('message', (data) => {
    const text = data.toString();
    write({ k: 'recv', c: state.c, text });
    if (!quiet) emit(socket, state, text);
  });
  socket.on('close', (code) => {
    live.delete(socket);
    write({ k: 'close', c: state.c, code, sent: state.s });
  });
});

const timer = setInterval(() => {
  if (quiet) return;
  for (const [socket, state] of live) if (socket.readyState === socket.OPEN) emit(socket, state);
}, intervalMs);

process.on('message', (message) => {
  if (message === 'quiet') {
    quiet = true;
    write({ k: 'quiet' });
    process.send?.('quiet');
  } else if (message === 'exit') {
    clearInterval(timer);
    for (const socket of live.keys()) socket.terminate();
    wss.close();
    log.end(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ port: (wss.address() as AddressInfo).port });
