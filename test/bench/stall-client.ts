/**
 * Stalled consumer: one peer floods the pool without pause; the application
 * reads a few messages and then stops reading. Samples RSS, heap and inbox
 * depth every `interval` ms for `seconds` s. With a bounded inbox the RSS
 * must go flat once the inbox is full: `block` pauses the socket (TCP
 * backpressure reaches the server), `drop-oldest` keeps reading and discards.
 *
 * usage: tsx stall-client.ts <port> <seconds> <block|drop-oldest>
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { InboxOverflow } from '../../src/node.ts';
import { emit, loadHoneybee } from './fleet.ts';

const { DEFAULTS, createPool } = await loadHoneybee();

const [portText = '0', secondsText = '30', overflow = 'block'] = process.argv.slice(2);
const seconds = Number(secondsText);
const samples = Math.max(4, Math.round(seconds));
const interval = (seconds * 1000) / samples;
const MiB = 1024 * 1024;

const pool = createPool({ inboxOverflow: overflow as InboxOverflow });
pool.connect(`ws://127.0.0.1:${portText}/flood?n=inf`);
let read = 0;
for await (const message of pool.inbox) {
  if (message.data.length !== 0 && ++read === 1000) break;
}
// From here on nobody reads the inbox.
const series: Array<{ t: number; rssMiB: number; heapMiB: number; depth: number; received: number }> = [];
const started = performance.now();
for (let i = 0; i <= samples; i++) {
  const stats = pool.stats();
  const usage = process.memoryUsage();
  series.push({
    t: Math.round(performance.now() - started),
    rssMiB: usage.rss / MiB,
    heapMiB: usage.heapUsed / MiB,
    depth: stats.inboxDepth,
    received: stats.totalReceived + stats.inboxDropped
  });
  if (i < samples) await sleep(interval);
}
// The inbox counts as full from the first sample at capacity; growth is measured from there.
const fullAt = Math.max(
  1,
  series.findIndex((s) => s.depth >= DEFAULTS.inboxSize)
);
const from = series[fullAt]!;
const last = series[series.length - 1]!;
const peakRss = Math.max(...series.slice(fullAt).map((s) => s.rssMiB));
emit({
  overflow,
  seconds,
  inboxDepth: last.depth,
  received: last.received,
  rssAtFullMiB: from.rssMiB,
  rssEndMiB: last.rssMiB,
  rssGrowthAfterFullMiB: last.rssMiB - from.rssMiB,
  rssPeakAfterFullMiB: peakRss,
  series
});
process.exit(0);
