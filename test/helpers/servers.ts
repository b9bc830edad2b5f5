import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';

/** A ws server on 127.0.0.1, port 0, with its URL and a list of live server-side sockets. */
export interface TestServer {
  wss: WebSocketServer;
  url: string;
  port: number;
  sockets: Set<WebSocket>;
  /** Resolves with the next server-side connection. */
  nextConnection(): Promise<WebSocket>;
  close(): Promise<void>;
}

/** Starts a `ws` server on 127.0.0.1 port 0 (never a fixed port). */
export async function startServer(options: Omit<ServerOptions, 'port' | 'host'> = {}): Promise<TestServer> {
  const wss = new WebSocketServer({ ...options, host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  const sockets = new Set<WebSocket>();
  const waiters: Array<(socket: WebSocket) => void> = [];
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    waiters.shift()?.(socket);
  });
  return {
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    sockets,
    nextConnection: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        wss.close(() => resolve());
      })
  };
}

/** A TCP server that accepts and never answers the HTTP upgrade: a hung handshake. */
export async function startHungServer(): Promise<{ url: string; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Read (and ignore) the upgrade request: a socket nobody reads never sees the
    // client's FIN, so it would stay in `sockets` after the client has gone.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })
  };
}

/** A URL whose port was bound and then released: dials to it are refused. */
export async function refusedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `ws://127.0.0.1:${port}`;
}

/** Collects everything an async iterable yields until `stop()` or its end. */
export function collect<T>(source: AsyncIterable<T>): { items: T[]; done: Promise<void> } {
  const items: T[] = [];
  const done = (async () => {
    for await (const item of source) items.push(item);
  })();
  return { items, done };
}
