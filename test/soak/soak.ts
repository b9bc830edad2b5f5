import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { BackpressureError, ConnectionUnavailableError } from '../../src/errors.ts';
import { createPool } from '../../src/node.ts';
import type { DisconnectCause } from '../../src/types.ts';
import { DenseInts, SequenceLedger } from './ledger.ts';
import type { PeersReport } from './peers.ts';

// Soak run: `npm run soak -- --minutes N [--peers P]`. The pool runs here;
// the servers and one fault proxy per peer run in a child process (peers.ts)
// that switches each proxy between random faults every 2–6 s. At the end it
// prints what was written, delivered and lost, checks event pairing and
// memory, and exits 1 on any violation.

interface Sample {
  at: number;
  rss: number;
  heap: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(args[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const minutes = option('minutes', 10);
const peerCount = option('peers', 200);
const durationMs = minutes * 60_000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const violations: string[] = [];
const violation = (text: string): void => {
  if (violations.length < 50) violations.push(text);
  else if (violations.length === 50) violations.push('… (more)');
};
process.on('unhandledRejection', (reason) => violation(`unhandled rejection: ${String(reason)}`));
process.on('uncaughtException', (error) => violation(`uncaught exception: ${error.stack ?? String(error)}`));

function sample(): Sample {
  for (let i = 0; i < 3; i++) gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { at: Date.now(), rss, heap: heapUsed };
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const log = (text: string): void => console.log(`[soak +${((Date.now() - started) / 1000).toFixed(0)}s] ${text}`);
const started = Date.now();

function startPeers(): Promise<{ child: ChildProcess; urls: string[] }> {
  const child = fork(fileURLToPath(new URL('./peers.ts', import.meta.url)), [String(peerCount)], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`peers process exited early (${code})`)));
    child.once('message', (message: { type: string; urls: string[] }) => resolve({ child, urls: message.urls }));
  });
}

function request<T>(child: ChildProcess, command: string, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string }): void => {
      if (message.type !== reply) return;
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.send(command);
  });
}

interface PeerLedger {
  connected: number;
  disconnected: number;
  dialFailed: number;
  up: boolean;
}

async function main(): Promise<void> {
  const { child, urls } = await startPeers();
  log(`${urls.length} peers behind fault proxies; running ${minutes} min`);
  const pool = createPool({
    id: 'soak',
    inboxSize: 1024,
    eventsSize: 1 << 16,
    reconnectDelay: 200,
    minUptime: 2000,
    pingInterval: 1000,
    keepaliveTimeout: 3000,
    handshakeTimeout: 2000,
    closeTimeout: 500,
    retry: { initialDelay: 200, maxDelay: 3000 }
  });

  /** Peer id → its index (0 … peers-1), which names it in the URL path and in what it sends. */
  const index = new Map<string, number>();

  // --- events: strict connected/disconnected alternation per peer -----------------
  const peers = new Map<string, PeerLedger>();
  const causes: Partial<Record<DisconnectCause, number>> = {};
  const eventsDone = (async () => {
    for await (const event of pool.events) {
      let peer = peers.get(event.id);
      if (peer === undefined) peers.set(event.id, (peer = { connected: 0, disconnected: 0, dialFailed: 0, up: false }));
      if (event.kind === 'connected') {
        if (peer.up) violation(`${event.id}: connected twice in a row`);
        peer.up = true;
        peer.connected += 1;
      } else if (event.kind === 'disconnected') {
        if (!peer.up) violation(`${event.id}: disconnected while not connected`);
        peer.up = false;
        peer.disconnected += 1;
        causes[event.cause] = (causes[event.cause] ?? 0) + 1;
      } else if (event.kind === 'dial_failed') {
        if (peer.up) violation(`${event.id}: dial_failed while connected`);
        peer.dialFailed += 1;
      } else {
        violation(`${event.id}: retired although maxRetries is 0`);
      }
    }
  })();

  // --- inbox: every connection's numbers must arrive gap-free ----------------------
  const ledger = new SequenceLedger();
  // Connection → 1 + peer index (0 = not seen yet), off-heap like the ledger.
  const connPeer = new DenseInts();
  let delivered = 0;
  let stallUntil = 0;
  let stalls = 0;
  const inboxDone = (async () => {
    for await (const message of pool.inbox) {
      const head = typeof message.data === 'string' ? message.data.slice(0, 24) : Buffer.from(message.data.subarray(0, 24)).toString('latin1');
      const [connText, seqText] = head.split(':');
      const conn = Number(connText);
      ledger.record(conn, Number(seqText));
      const owner = connPeer.get(conn);
      const peer = (index.get(message.id) ?? -2) + 1;
      if (owner === 0) connPeer.set(conn, peer);
      else if (owner !== peer) violation(`connection ${conn} delivered for peer ${owner - 1} and ${message.id}`);
      delivered += 1;
      // Now and then the consumer stalls: the inbox fills and the workers pause their sockets.
      const wait = stallUntil - Date.now();
      if (wait > 0) await sleep(wait);
    }
  })();
  const stallTimer = setInterval(() => {
    stallUntil = Date.now() + 3000;
    stalls += 1;
  }, 40_000);

  // --- sends: numbered per connection, checked gap-free by the servers ------------
  // Only every 4th peer is sent to: a successful send resets the keepalive (spec §6), so
  // a black-holed peer that is sent to is noticed only by a later fault, not by keepalive.
  const live = new Map<string, number>();
  pool.actor.on('connected', (event) => {
    if ((index.get(event.id) ?? 1) % 4 === 0) live.set(event.id, 0);
  });
  pool.actor.on('disconnected', (event) => live.delete(event.id));
  let sent = 0;
  let refusedSends = 0;
  const sendTimer = setInterval(() => {
    for (const [id, seq] of live) {
      try {
        pool.send(id, `${index.get(id)}:${seq}`);
        live.set(id, seq + 1);
        sent += 1;
      } catch (error) {
        if (error instanceof ConnectionUnavailableError || error instanceof BackpressureError) refusedSends += 1;
        else violation(`send to ${id} threw ${String(error)}`);
      }
    }
  }, 250);

  urls.forEach((url, i) => index.set(pool.connect(url), i));

  // --- memory: sampled after warm-up, at half time and at the end -----------------
  const warmup = Math.min(30_000, durationMs * 0.2);
  const progress = setInterval(() => {
    const stats = pool.stats();
    const up = stats.peers.filter((p) => p.connected).length;
    log(`connected ${up}/${peerCount}, delivered ${delivered}, sent ${sent}, inbox ${stats.inboxDepth}, rss ${mb(process.memoryUsage().rss)}`);
  }, 30_000);
  await sleep(warmup);
  const start = sample();
  await sleep(durationMs / 2 - warmup);
  const middle = sample();
  await sleep(durationMs / 2);
  const end = sample();

  // --- finish: faults off, close the pool, collect the servers' side -------------
  clearInterval(progress);
  clearInterval(stallTimer);
  clearInterval(sendTimer);
  stallUntil = 0;
  await request(child, 'calm', 'calm');
  const closing = Date.now();
  await pool.close();
  const closeMs = Date.now() - closing;
  await Promise.all([inboxDone, eventsDone]);
  const stats = pool.stats();
  const report = await request<PeersReport>(child, 'report', 'report');
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  await sleep(200);
  const leftover = process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap' && type !== 'PipeWrap');

  // --- accounting ------------------------------------------------------------------
  const written = report.connections.reduce((sum, record) => sum + record.written, 0);
  const writtenBy = new Map(report.connections.map((record) => [record.conn, record.written]));
  let tail = 0;
  for (const conn of ledger.connections()) {
    const seen = ledger.of(conn);
    const wrote = writtenBy.get(conn);
    if (seen === undefined) continue;
    if (wrote === undefined) violation(`connection ${conn} delivered but no server wrote it`);
    else if (seen.next > wrote) violation(`connection ${conn}: delivered #${seen.next - 1}, server wrote ${wrote}`);
  }
  for (const record of report.connections) tail += record.written - (ledger.of(record.conn)?.delivered ?? 0);
  const inbound = ledger.summary();
  if (inbound.gaps > 0) violation(`${inbound.gaps} messages lost inside connections (pool side)`);
  if (inbound.disorder > 0) violation(`${inbound.disorder} messages repeated or reordered (pool side)`);
  if (report.received.gaps > 0) violation(`${report.received.gaps} sends lost inside connections (server side)`);
  if (report.received.disorder > 0) violation(`${report.received.disorder} sends repeated or reordered (server side)`);
  if (report.misrouted > 0) violation(`${report.misrouted} sends reached another peer's connection`);
  if (stats.totalReceived !== delivered) violation(`stats.totalReceived ${stats.totalReceived} ≠ delivered ${delivered}`);
  if (stats.inboxDropped !== 0 || stats.eventsDropped !== 0) violation(`dropped: inbox ${stats.inboxDropped}, events ${stats.eventsDropped}`);
  let connectedTotal = 0;
  let unpaired = 0;
  for (const [id, peer] of peers) {
    connectedTotal += peer.connected;
    if (peer.connected !== peer.disconnected) {
      unpaired += 1;
      violation(`${id}: ${peer.connected} connected vs ${peer.disconnected} disconnected`);
    }
  }
  if (peers.size !== peerCount) violation(`events seen for ${peers.size} of ${peerCount} peers`);
  if (report.received.delivered > sent) violation(`servers received ${report.received.delivered} > sent ${sent}`);
  // Flat: the second half must not grow like a leak would (heap after GC is the sharp measure).
  if (end.heap > middle.heap * 1.2 + 16 * 1024 * 1024) violation(`heap grew from ${mb(middle.heap)} to ${mb(end.heap)} in the second half`);
  if (end.rss > start.rss * 1.5 + 64 * 1024 * 1024) violation(`RSS grew from ${mb(start.rss)} to ${mb(end.rss)}`);
  if (closeMs > 5000) violation(`close() took ${closeMs} ms`);
  if (leftover.length > 0) violation(`resources left after close: ${leftover.join(', ')}`);

  const disconnects = Object.entries(causes)
    .map(([cause, n]) => `${cause} ${n}`)
    .join(', ');
  const faults = Object.entries(report.faults)
    .map(([fault, n]) => `${fault} ${n}`)
    .join(', ');
  console.log(`
==================== honeybee soak: ${minutes} min, ${peerCount} peers ====================
faults injected                   ${faults}
frames the servers wrote          ${written}  (on ${report.connections.length} server-side connections)
frames the pool delivered         ${delivered}  (stats.totalReceived ${stats.totalReceived})
lost inside open connections      ${inbound.gaps}  (repeated/reordered ${inbound.disorder})
in flight when a connection died  ${tail}  (legitimately lost tails)
pool → servers (every 4th peer)   sent ${sent}, received ${report.received.delivered}, lost inside ${report.received.gaps}, reordered ${report.received.disorder}, misrouted ${report.misrouted}; refused sends ${refusedSends}
connected / disconnected          ${connectedTotal} / ${Object.values(causes).reduce((a, b) => a + b, 0)}; peers unpaired: ${unpaired}
disconnect causes                 ${disconnects}
dial failures                     ${[...peers.values()].reduce((sum, p) => sum + p.dialFailed, 0)}
consumer stalls (3 s each)        ${stalls}; inbox dropped ${stats.inboxDropped}, events dropped ${stats.eventsDropped}
RSS start / middle / end          ${mb(start.rss)} / ${mb(middle.rss)} / ${mb(end.rss)}
heap after GC start / mid / end   ${mb(start.heap)} / ${mb(middle.heap)} / ${mb(end.heap)}
close()                           ${closeMs} ms; resources left: ${leftover.length === 0 ? 'none' : leftover.join(', ')}
violations                        ${violations.length === 0 ? 'none' : ''}${violations.map((v) => `\n  - ${v}`).join('')}
RESULT                            ${violations.length === 0 ? 'PASS' : 'FAIL'}`);
  process.exit(violations.length === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
