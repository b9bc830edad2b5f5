import type { WebSocket } from 'ws';
import type { TestServer } from './servers.ts';

/** Runs `handler` on every server-side connection, in arrival order (1-based). */
export function onConnection(server: Pick<TestServer, 'wss'>, handler: (socket: WebSocket, n: number) => void): void {
  let n = 0;
  server.wss.on('connection', (socket) => handler(socket, ++n));
}
