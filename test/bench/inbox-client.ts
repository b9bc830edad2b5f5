/**
 * One measured inbox run: `peers` clients of one kind receive `count`
 * firehose messages in total; prints CPU µs per message over the last 80 %
 * of them (the first 20 % warm the JIT up). Every client is connected before
 * the firehose starts: the server waits for the whole group.
 *
 * Kinds: `raw` (ws `'message'` handler), `honeybee` (`for await` over
 * `pool.inbox`), `honeybee-batch` (`for await` over `pool.inbox.batches()`),
 * `honeybee-parse` (`for await` + `JSON.parse`, the work nostr-tools always
 * does), `partysocket` (`'message'` listener), `nostr` (`AbstractRelay`
 * subscription, verification off).
 *
 * usage: tsx inbox-client.ts <kind> <port> <count> <peers>
 */
import WS from 'ws';
import { emit, loadHoneybee, urlsFor } from './fleet.ts';

const [kind = 'raw', portText = '0', countText = '100000', peersText = '1'] = process.argv.slice(2);
const peers = Number(peersText);
const perPeer = Math.ceil(Number(countText) / peers);
const expected = perPeer * peers;
const query = `n=${perPeer}&g=${process.pid}&of=${peers}${kind === 'nostr' ? '&wait=1' : ''}`;
const urls = urlsFor(Number(portText), peers, query);

const warm = Math.floor(expected / 5);
let received = 0;
let startCpu: NodeJS.CpuUsage | undefined;
let startTime = 0n;
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));

function startMeasuring(): void {
  startCpu = process.cpuUsage();
  startTime = process.hrtime.bigint();
}

function count(): void {
  if (++received === warm) startMeasuring();
  if (received === expected) finish();
}

function runRaw(): void {
  for (const url of urls) {
    const ws = new WS(url, { perMessageDeflate: false });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const value = isBinary ? data : data.toString();
      if (value.length !== 0) count();
    });
  }
}

async function runPartysocket(): Promise<void> {
  const { default: ReconnectingWebSocket } = await import('partysocket/ws');
  for (const url of urls) {
    const rws = new ReconnectingWebSocket(url, [], { WebSocket: WS });
    rws.addEventListener('message', (event) => {
      if ((event.data as string).length !== 0) count();
    });
  }
}

async function runNostr(): Promise<void> {
  const { AbstractRelay } = await import('nostr-tools/abstract-relay');
  for (const url of urls) {
    const relay = new AbstractRelay(url, { verifyEvent: () => true, websocketImplementation: WS as unknown as typeof WebSocket });
    await relay.connect();
    relay.subscribe([{}], {
      id: 'sub',
      onevent: (event) => {
        if (event.id.length !== 0) count();
      }
    });
  }
}

async function runHoneybee(parse: boolean): Promise<void> {
  const { createPool } = await loadHoneybee();
  const pool = createPool();
  for (const url of urls) pool.connect(url);
  for await (const message of pool.inbox) {
    const data = parse ? (JSON.parse(message.data as string) as unknown[])[0] : message.data;
    if ((data as string).length === 0) continue;
    if (++received === warm) startMeasuring();
    if (received === expected) break;
  }
  finish();
}

async function runHoneybeeBatches(): Promise<void> {
  const { createPool } = await loadHoneybee();
  const pool = createPool();
  for (const url of urls) pool.connect(url);
  for await (const batch of pool.inbox.batches()) {
    for (const message of batch) {
      if (message.data.length !== 0 && ++received === warm) startMeasuring();
    }
    if (received >= expected) break;
  }
  finish();
}

switch (kind) {
  case 'raw':
    runRaw();
    break;
  case 'partysocket':
    await runPartysocket();
    break;
  case 'nostr':
    await runNostr();
    break;
  case 'honeybee':
  case 'honeybee-parse':
    void runHoneybee(kind === 'honeybee-parse');
    break;
  case 'honeybee-batch':
    void runHoneybeeBatches();
    break;
  default:
    throw new Error(`unknown kind ${kind}`);
}

await finished;
const cpu = process.cpuUsage(startCpu);
const wallUs = Number(process.hrtime.bigint() - startTime) / 1e3;
const measured = received - warm;
emit({ kind, peers, messages: measured, cpuUsPerMessage: (cpu.user + cpu.system) / measured, wallUsPerMessage: wallUs / measured });
process.exit(0);
