/**
 * How far one process goes (see hold.ts): one honeybee pool connects every
 * URL (idle peers spread over several server processes and loopback
 * addresses), pings on, then:
 * 1. time from the first `connect()` until every peer has been `connected`,
 *    the peers connected in waves of `wave` (each wave waits until its
 *    peers are connected; 0: all at once);
 * 2. heap and RSS per connected peer (two `gc()`, the sample taken before
 *    the pool existed subtracted);
 * 3. idle CPU over `idleSeconds` (at least one ping round), the event-loop
 *    delay over it, and the pings the servers counted meanwhile;
 * 4. time (and CPU) of `await pool.close()`.
 * Progress goes to stderr every 5 s; the result is one JSON line.
 *
 * Run with `--expose-gc`.
 * usage: tsx hold-client.ts <peers> <idleSeconds> <pingIntervalMs> <wave> <host:port>[,<host:port>…]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage, emit, loadHoneybee } from './fleet.ts';

const [peersText = '1000', idleText = '25', pingText = '20000', waveText = '0', serversText = ''] = process.argv.slice(2);
const wave = Number(waveText) > 0 ? Number(waveText) : Number(peersText);
const peers = Number(peersText);
const idleSeconds = Number(idleText);
const servers = serversText.split(',').filter(Boolean);
if (servers.length === 0) throw new Error('no servers given');
if ((globalThis as { gc?: unknown }).gc === undefined) throw new Error('run with --expose-gc');
/** Peer i talks to server i mod n: every server and loopback address carries its share. */
const urls = Array.from({ length: peers }, (_, i) => `ws://${servers[i % servers.length]}/p${i}`);

const progress = (text: string): void => void process.stderr.write(`[hold-client] ${text}\n`);
function memory(): { heap: number; rss: number } {
  collectGarbage();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}
const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
async function serverPings(): Promise<number> {
  const counts = await Promise.all(servers.map(async (server) => ((await (await fetch(`http://${server}/stats`)).json()) as { pings: number }).pings));
  return counts.reduce((a, b) => a + b, 0);
}

const { createPool, wsTransport } = await loadHoneybee();
const before = memory();
let dials = 0;
let connectedEvents = 0;
let disconnectedEvents = 0;
let distinct = 0;
/** One byte per peer (index from its URL path): whether it has been connected. */
const seen = new Uint8Array(peers);
const pool = createPool({
  pingInterval: Number(pingText),
  transport: {
    ...wsTransport,
    open: (url, options, listener) => {
      dials++;
      return wsTransport.open(url, options, listener);
    }
  }
});
/** Resolves once `count` distinct peers have been connected. */
let waiting: { count: number; resolve: () => void } | undefined;
const connectedCount = (count: number): Promise<void> => (distinct >= count ? Promise.resolve() : new Promise((resolve) => (waiting = { count, resolve })));
pool.actor.on('connected', (event) => {
  connectedEvents++;
  const index = Number(event.id.slice(event.id.lastIndexOf('/p') + 2));
  if (seen[index] === 1) return;
  seen[index] = 1;
  if (++distinct === waiting?.count) waiting.resolve();
});
pool.actor.on('disconnected', () => disconnectedEvents++);

const cpuStart = process.cpuUsage();
const started = performance.now();
const ticker = setInterval(
  () => progress(`${((performance.now() - started) / 1000).toFixed(0)} s: ${connectedEvents} connected events, ${dials} dials, ${disconnectedEvents} disconnected`),
  5000
);
let connectCallsMs = 0;
for (let from = 0; from < peers; from += wave) {
  const callsStarted = performance.now();
  for (const url of urls.slice(from, from + wave)) pool.connect(url);
  connectCallsMs += performance.now() - callsStarted;
  await connectedCount(Math.min(peers, from + wave));
}
const connectMs = performance.now() - started;
const connectCpuMs = cpuMs(process.cpuUsage(cpuStart));
const reconnectsWhileConnecting = dials - peers;
progress(`all connected after ${(connectMs / 1000).toFixed(1)} s (${dials} dials)`);

await sleep(2000);
const after = memory();

const delay = monitorEventLoopDelay({ resolution: 20 });
const pingsBefore = await serverPings();
const dropsBefore = disconnectedEvents;
const idleCpu = process.cpuUsage();
const idleStarted = performance.now();
delay.enable();
await sleep(idleSeconds * 1000);
delay.disable();
const idleWallMs = performance.now() - idleStarted;
const idleCpuMs = cpuMs(process.cpuUsage(idleCpu));
const pings = (await serverPings()) - pingsBefore;
const dropsWhileIdle = disconnectedEvents - dropsBefore;
const rssIdleEnd = process.memoryUsage().rss;

const closeCpu = process.cpuUsage();
const closeStarted = performance.now();
await pool.close();
const closeMs = performance.now() - closeStarted;
const closeCpuMs = cpuMs(process.cpuUsage(closeCpu));
clearInterval(ticker);
progress(`closed in ${(closeMs / 1000).toFixed(1)} s`);

emit({
  peers,
  wave,
  servers: servers.length,
  connectCallsMs,
  connectMs,
  connectCpuMs,
  dials,
  reconnectsWhileConnecting,
  heapPerPeer: (after.heap - before.heap) / peers,
  rssPerPeer: (after.rss - before.rss) / peers,
  heapMiB: after.heap / 2 ** 20,
  rssMiB: after.rss / 2 ** 20,
  rssIdleEndMiB: rssIdleEnd / 2 ** 20,
  idleSeconds: idleWallMs / 1000,
  idleCpuMs,
  /** Percent of one core. */
  idleCpuPercent: (idleCpuMs / idleWallMs) * 100,
  idleCpuUsPerPeerPerSecond: (idleCpuMs * 1000) / peers / (idleWallMs / 1000),
  eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
  eventLoopDelayMaxMs: delay.max / 1e6,
  pingsWhileIdle: pings,
  dropsWhileIdle,
  closeMs,
  closeCpuMs,
  disconnectedEvents
});
process.exit(0);
