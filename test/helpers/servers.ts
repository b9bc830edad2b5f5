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

// The hung-handshake and refused-port peers are the conformance kit's own.
export { startKitHungPeer as startHungServer, kitRefusedUrl as refusedUrl } from '../../src/testkit/servers.ts';

/** Collects everything an async iterable yields until `stop()` or its end. */
export function collect<T>(source: AsyncIterable<T>): { items: T[]; done: Promise<void> } {
  const items: T[] = [];
  const done = (async () => {
    for await (const item of source) items.push(item);
  })();
  return { items, done };
}
