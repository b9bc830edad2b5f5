/**
 * One measured send run: one client of a kind sends `count` copies of a
 * Nostr-sized text message to a server that discards them unparsed; prints
 * CPU µs per message from the first send to the last. Sends go in chunks of
 * 1 000 with an I/O turn in between, the same for every kind, so the socket
 * can flush and no contender's buffer grows without bound.
 *
 * Kinds: `raw` (`ws.send`), `honeybee` (`pool.send`), `partysocket`
 * (`rws.send`), `nostr` (`relay.send`, which returns a promise).
 *
 * usage: tsx send-client.ts <kind> <port> <count>
 */
import WS from 'ws';
import { emit, loadHoneybee } from './fleet.ts';

const [kind = 'raw', portText = '0', countText = '100000'] = process.argv.slice(2);
const total = Number(countText);
const url = `ws://127.0.0.1:${portText}/send?mode=sink`;
const CHUNK = 1000;
const message = JSON.stringify([
  'EVENT',
  { id: 'a'.repeat(64), pubkey: 'b'.repeat(64), created_at: 1_700_000_000, kind: 1, tags: [], content: 'hello honeybee', sig: 'c'.repeat(128) }
]);

const ioTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function sender(): Promise<(data: string) => void> {
  switch (kind) {
    case 'raw': {
      const ws = new WS(url, { perMessageDeflate: false });
      await new Promise((resolve) => ws.once('open', resolve));
      return (data) => ws.send(data);
    }
    case 'honeybee': {
      const { createPool } = await loadHoneybee();
      const pool = createPool();
      const id = pool.connect(url);
      await new Promise((resolve) => pool.actor.on('connected', resolve));
      return (data) => pool.send(id, data);
    }
    case 'partysocket': {
      const { default: ReconnectingWebSocket } = await import('partysocket/ws');
      const rws = new ReconnectingWebSocket(url, [], { WebSocket: WS });
      await new Promise((resolve) => rws.addEventListener('open', resolve));
      return (data) => rws.send(data);
    }
    case 'nostr': {
      const { AbstractRelay } = await import('nostr-tools/abstract-relay');
      const relay = new AbstractRelay(url, { verifyEvent: () => true, websocketImplementation: WS as unknown as typeof WebSocket });
      await relay.connect();
      return (data) => void relay.send(data);
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

const send = await sender();
const startCpu = process.cpuUsage();
const startTime = process.hrtime.bigint();
for (let sent = 0; sent < total;) {
  const end = Math.min(total, sent + CHUNK);
  for (; sent < end; sent++) send(message);
  await ioTurn();
}
const cpu = process.cpuUsage(startCpu);
const wallUs = Number(process.hrtime.bigint() - startTime) / 1e3;
emit({ kind, messages: total, cpuUsPerMessage: (cpu.user + cpu.system) / total, wallUsPerMessage: wallUs / total });
process.exit(0);
