// The README's usage example, runnable: npx tsx src/demo/quick-start.ts
import { WebSocketServer } from 'ws';
import { createPool } from '../node.ts';

// A local peer that greets every client, so the example needs no network.
const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
server.on('connection', (socket) => socket.send('hello from the peer'));
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as { port: number };

const pool = createPool({ id: 'quick-start' });
const id = pool.connect(`ws://127.0.0.1:${port}/`); // returns the normalized id

pool.actor.on('connected', (event) => {
  console.log('connected', event.id);
  pool.send(id, 'hi'); // text frame; a Uint8Array would go as a binary frame
});

for await (const message of pool.inbox) {
  console.log('received', JSON.stringify(message.data), 'from', message.id);
  break; // leaving the loop keeps any other buffered messages for later
}
console.log('state', pool.peerStats(id).state, 'sent', pool.stats().totalSent);
await pool.close(); // stops every worker, waits for them, ends both streams
server.close();
