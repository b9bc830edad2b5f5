/**
 * One measured lifecycle run of `peers` clients of one kind against idle
 * server connections:
 * 1. time from the first dial until every client is connected (the library
 *    is loaded before, outside every measure);
 * 2. heap and RSS per idle connected client (two `gc()` before each sample,
 *    the sample taken before any client existed subtracted);
 * 3. time (and CPU time of this process) for closing all of them until each
 *    has finished.
 *
 * Run with `--expose-gc`.
 *
 * usage: tsx connect-client.ts <kind> <port> <peers>
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage, emit, openFleet, preload, urlsFor, type Kind } from './fleet.ts';

const [kind = 'raw', portText = '0', peersText = '1000'] = process.argv.slice(2);
const peers = Number(peersText);
const urls = urlsFor(Number(portText), peers);
if ((globalThis as { gc?: unknown }).gc === undefined) throw new Error('run with --expose-gc');

function memory(): { heap: number; rss: number } {
  collectGarbage();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

// Measure the peers, not the library's modules: load them first.
await preload(kind as Kind);
const before = memory();
const startCpu = process.cpuUsage();
const started = performance.now();
const fleet = await openFleet(kind as Kind, urls);
await fleet.opened;
const connectMs = performance.now() - started;
const cpu = process.cpuUsage(startCpu);
// Let handshake leftovers and first-tick timers settle before sampling.
await sleep(500);
const after = memory();
const closeCpu = process.cpuUsage();
const closeStarted = performance.now();
await fleet.close();
const closeMs = performance.now() - closeStarted;
const closeCpuUsed = process.cpuUsage(closeCpu);
emit({
  kind,
  peers,
  connectMs,
  connectCpuUsPerPeer: (cpu.user + cpu.system) / peers,
  heapPerPeer: (after.heap - before.heap) / peers,
  rssPerPeer: (after.rss - before.rss) / peers,
  closeMs,
  closeCpuMs: (closeCpuUsed.user + closeCpuUsed.system) / 1000
});
process.exit(0);
