/**
 * One measured client run: connects `peers` clients of one kind to the
 * firehose, receives `count` messages in total, and prints CPU µs per message.
 *
 * usage: tsx inbox-client.ts <raw|honeybee> <port> <count> <peers>
 */
import WebSocket from 'ws';
import { createPool } from '../../src/index.ts';

const [kind = 'raw', portText = '0', countText = '100000', peersText = '1'] = process.argv.slice(2);
const port = Number(portText);
const total = Number(countText);
const peers = Number(peersText);
const perPeer = Math.ceil(total / peers / 1000) * 1000;
const expected = perPeer * peers;

function report(startCpu: NodeJS.CpuUsage, startTime: bigint): void {
  const cpu = process.cpuUsage(startCpu);
  const wall = Number(process.hrtime.bigint() - startTime) / 1e3;
  process.stdout.write(`${JSON.stringify({ kind, peers, messages: expected, cpuUsPerMessage: (cpu.user + cpu.system) / expected, wallUsPerMessage: wall / expected })}\n`);
}

async function runRaw(): Promise<void> {
  let received = 0;
  let start: { cpu: NodeJS.CpuUsage; time: bigint } | undefined;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < peers; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/?n=${perPeer}&p=${i}`, { perMessageDeflate: false });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        start ??= { cpu: process.cpuUsage(), time: process.hrtime.bigint() };
        const value = isBinary ? data : data.toString();
        if (value.length === 0) return;
        if (++received === expected) resolve();
      });
    }
  });
  report(start!.cpu, start!.time);
  process.exit(0);
}

async function runHoneybee(): Promise<void> {
  const pool = createPool({ inboxSize: 4096 });
  for (let i = 0; i < peers; i++) pool.connect(`ws://127.0.0.1:${port}/?n=${perPeer}&p=${i}`);
  let received = 0;
  let start: { cpu: NodeJS.CpuUsage; time: bigint } | undefined;
  for await (const message of pool.inbox) {
    start ??= { cpu: process.cpuUsage(), time: process.hrtime.bigint() };
    if (message.data.length === 0) continue;
    if (++received === expected) break;
  }
  report(start!.cpu, start!.time);
  process.exit(0);
}

await (kind === 'raw' ? runRaw() : runHoneybee());
