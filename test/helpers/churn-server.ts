/**
 * A busy peer server for the inspector at scale, run as its own process
 * (`node --import tsx test/helpers/churn-server.ts`): it accepts any path on
 * 127.0.0.1, sends each connection one short text frame per second (spread
 * over ten 100 ms ticks), closes about 1 % of its connections every second
 * (code 4000 "churn"), and refuses every path under `/fail/` with HTTP 503.
 * It prints its port as one line of JSON, `{"port":…}`, and stops when its
 * stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ noServer: true });
const sockets: WebSocket[][] = Array.from({ length: 10 }, () => []);
let slot = 0;
server.on('upgrade', (request, socket, head) => {
  socket.on('error', () => {});
  if ((request.url ?? '').startsWith('/fail/')) {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(request, socket, head, (ws) => {
    ws.on('error', () => {});
    const group = sockets[slot++ % 10] as WebSocket[];
    group.push(ws);
    ws.on('close', () => group.splice(group.indexOf(ws), 1));
  });
});
let tick = 0;
const timer = setInterval(() => {
  const group = sockets[tick++ % 10] as WebSocket[];
  for (const ws of group) if (ws.readyState === ws.OPEN) ws.send('{"kind":"note","n":1}');
  if (tick % 10 === 0) {
    const all = sockets.flat();
    const victims = Math.round(all.length / 100);
    for (let i = 0; i < victims; i++) all[Math.floor(Math.random() * all.length)]?.close(4000, 'churn');
  }
}, 100);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.stdin.resume();
process.stdin.on('end', () => {
  clearInterval(timer);
  for (const ws of sockets.flat()) ws.terminate();
  server.close();
  process.exit(0);
});
