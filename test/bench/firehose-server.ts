/**
 * Firehose peer for benchmarks, run as its own process so the sender never
 * shares a CPU budget with the client being measured.
 *
 * Every connection gets `?n=<count>` pre-framed text frames written straight
 * to the TCP socket, so the server is never the bottleneck. Prints its port
 * on stdout as JSON.
 */
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';

const PAYLOAD = JSON.stringify(['EVENT', 'sub', { id: 'a'.repeat(64), kind: 1, content: 'hello honeybee' }]);
const BATCH = 1000;

/** One unmasked server-to-client text frame (payload < 126 bytes or < 64 KiB). */
function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = body.length < 126 ? Buffer.from([0x81, body.length]) : Buffer.from([0x81, 126, body.length >> 8, body.length & 255]);
  return Buffer.concat([header, body]);
}

const batch = Buffer.concat(Array.from({ length: BATCH }, () => frame(PAYLOAD)));
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

wss.on('connection', (ws, request) => {
  const total = Number(new URL(request.url ?? '/', 'ws://x').searchParams.get('n') ?? '0');
  const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  ws.on('error', () => {});
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      sent += BATCH;
      if (!raw.write(batch)) {
        raw.once('drain', pump);
        return;
      }
    }
  };
  pump();
});

wss.on('listening', () => {
  process.stdout.write(`${JSON.stringify({ port: (wss.address() as AddressInfo).port, payloadBytes: PAYLOAD.length })}\n`);
});
