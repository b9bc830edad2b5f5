import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A ws peer on 127.0.0.1 that can be stopped and started again on the same port. */
export interface RestartablePeer {
  port: number;
  /** `ws://127.0.0.1:<port>`, set once the first start has bound the port. */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a {@link RestartablePeer}; `onConnection` sees every accepted socket (an error listener is already on it). */
export async function startRestartablePeer(onConnection: (socket: WebSocket, peer: RestartablePeer) => void = () => {}): Promise<RestartablePeer> {
  let wss: WebSocketServer | undefined;
  const peer: RestartablePeer = {
    port: 0,
    url: '',
    async start() {
      const server = new WebSocketServer({ host: '127.0.0.1', port: peer.port });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      server.on('connection', (socket) => {
        socket.on('error', () => {});
        onConnection(socket, peer);
      });
      peer.port = (server.address() as AddressInfo).port;
      peer.url = `ws://127.0.0.1:${peer.port}`;
      wss = server;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const server = wss;
        if (server === undefined) return resolve();
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
        wss = undefined;
      })
  };
  await peer.start();
  return peer;
}
