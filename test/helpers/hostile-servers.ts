import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { startServer, type TestServer } from './servers.ts';

// Servers that misbehave on purpose, all on 127.0.0.1 port 0. The ones that
// break the WebSocket framing write pre-built frames straight onto the TCP
// socket under a real `ws` server, so the handshake and the close handshake
// stay correct and only the frames under test are hostile.

export { refusedUrl, startHungServer } from './servers.ts';

/** WebSocket opcodes (RFC 6455 §5.2). */
export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * Builds one unmasked (server-to-client) frame. `length` overrides the
 * announced payload length, to announce more than is sent.
 */
export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true, length?: number): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const announced = length ?? body.length;
  const first = (fin ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (announced < 126) {
    header = Buffer.from([first, announced]);
  } else if (announced < 65_536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = 126;
    header.writeUInt16BE(announced, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(announced), 2);
  }
  return Buffer.concat([header, body]);
}

/** `text` as fragments (first text, then continuations) with a ping and an unsolicited pong between each pair. */
export function fragmentedWithControlFrames(text: string, parts: number): Buffer {
  const bytes = Buffer.from(text);
  const size = Math.ceil(bytes.length / parts);
  const frames: Buffer[] = [];
  for (let i = 0; i < parts; i++) {
    const last = i === parts - 1;
    frames.push(frame(i === 0 ? Opcode.text : Opcode.continuation, bytes.subarray(i * size, (i + 1) * size), last));
    if (!last) frames.push(frame(Opcode.ping, `between ${i}`), frame(Opcode.pong, 'unsolicited'));
  }
  return Buffer.concat(frames);
}

/** The TCP socket under a server-side `ws` socket. */
export function rawSocketOf(socket: ServerSocket): net.Socket {
  return (socket as unknown as { _socket: net.Socket })._socket;
}

/** Writes bytes on the TCP socket under a server-side `ws`, bypassing its framing. */
export function writeRaw(socket: ServerSocket, bytes: Buffer): void {
  rawSocketOf(socket).write(bytes);
}

/**
 * A `ws` server that runs `script` on every connection (`n` counts from 1).
 * Use it with {@link writeRaw} and {@link frame} to misbehave.
 */
export async function startScriptedServer(script: (socket: ServerSocket, n: number) => void): Promise<TestServer> {
  const server = await startServer();
  let n = 0;
  server.wss.on('connection', (socket) => script(socket, ++n));
  return server;
}

/** Sends a text frame whose payload is not valid UTF-8 on every connection. */
export function startInvalidUtf8Server(): Promise<TestServer> {
  return startScriptedServer((socket) => writeRaw(socket, frame(Opcode.text, Buffer.from([0x68, 0x69, 0xff, 0xfe]))));
}

/** Sends `text` in `parts` fragments with control frames between them on every connection. */
export function startFragmentingServer(text: string, parts: number): Promise<TestServer> {
  return startScriptedServer((socket) => writeRaw(socket, fragmentedWithControlFrames(text, parts)));
}

/** Closes every connection with `code` and `reason` once it is open. */
export function startClosingServer(code: number, reason: string): Promise<TestServer> {
  return startScriptedServer((socket) => socket.close(code, reason));
}

/** Accepts, then closes every connection after `ms` (1000, 'flap'), forever. */
export function startFlappingServer(ms: number): Promise<TestServer> {
  return startScriptedServer((socket) => {
    const timer = setTimeout(() => socket.close(1000, 'flap'), ms);
    socket.on('close', () => clearTimeout(timer));
  });
}

/** A frame header announcing `length` bytes, with none of them sent: a reader must refuse it from the header alone. */
export function startHugeFrameServer(length: number): Promise<TestServer> {
  return startScriptedServer((socket) => writeRaw(socket, frame(Opcode.binary, Buffer.alloc(0), true, length)));
}

/** A server answering WebSocket upgrades with an HTTP error status, until told to accept them. */
export interface HttpStatusServer {
  url: string;
  /** Upgrade requests received so far, with their headers. */
  readonly requests: http.IncomingHttpHeaders[];
  /** Upgrades accepted as WebSockets (after `setStatus(null)`). */
  readonly accepted: number;
  /** The status the next upgrades get; `null` accepts them. */
  setStatus(status: number | null, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 302: 'Found', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

/**
 * Answers every WebSocket upgrade with HTTP `status` (and `headers`, e.g. a
 * `Location` for a redirect) instead of `101 Switching Protocols`, until
 * `setStatus(null)` makes it a normal WebSocket server.
 */
export async function startHttpStatusServer(status: number, headers: Record<string, string> = {}): Promise<HttpStatusServer> {
  let current: { status: number; headers: Record<string, string> } | null = { status, headers };
  let accepted = 0;
  const requests: http.IncomingHttpHeaders[] = [];
  const sockets = new Set<net.Socket>();
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_request, response) => response.writeHead(current?.status ?? 426).end());
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    requests.push(request.headers);
    socket.on('error', () => {});
    if (current === null) {
      wss.handleUpgrade(request, socket, head, (ws) => {
        accepted += 1;
        ws.on('error', () => {});
      });
      return;
    }
    const lines = [`HTTP/1.1 ${current.status} ${REASONS[current.status] ?? 'Status'}`, 'Connection: close', 'Content-Length: 0'];
    for (const [name, value] of Object.entries(current.headers)) lines.push(`${name}: ${value}`);
    socket.end(`${lines.join('\r\n')}\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    requests,
    get accepted() {
      return accepted;
    },
    setStatus(next, nextHeaders = {}) {
      current = next === null ? null : { status: next, headers: nextHeaders };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        for (const socket of sockets) socket.destroy();
        wss.close();
        server.close(() => resolve());
      })
  };
}
