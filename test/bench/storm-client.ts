/**
 * Reconnect storm, client side: `peers` clients of one kind connect to a
 * server the runner then kills and restarts on the same port. Prints
 * `{"ready":true}` once all are connected, then, when every client is back,
 * the time from the first drop until the last reconnect and the dial rate:
 * the most dials started within any 1 s window and within any 100 ms window.
 *
 * `fast` shortens both clients' redial delays to ~50 ms (quick smoke runs);
 * `default` keeps each library's defaults.
 *
 * usage: tsx storm-client.ts <honeybee|partysocket> <port> <peers> [fast|default]
 */
import { emit, openFleet, urlsFor, type Kind } from './fleet.ts';

const [kind = 'honeybee', portText = '0', peersText = '5000', pace = 'default'] = process.argv.slice(2);
const peers = Number(peersText);
const TIMEOUT_MS = 120_000;

let ready = false;
let firstDropAt: number | undefined;
let reopened = 0;
const dials: number[] = [];
let allBack!: () => void;
const back = new Promise<void>((resolve) => (allBack = resolve));

const fast = pace === 'fast' ? { honeybee: { reconnectDelay: 50 }, partysocket: { minReconnectionDelay: 50 } } : undefined;
const fleet = await openFleet(kind as Kind, urlsFor(Number(portText), peers), {
  ...(fast === undefined ? {} : { options: fast }),
  onDial: () => {
    if (ready) dials.push(performance.now());
  },
  onDrop: () => {
    if (ready) firstDropAt ??= performance.now();
  },
  onOpen: () => {
    if (ready && ++reopened === peers) allBack();
  }
});
await fleet.opened;
ready = true;
emit({ ready: true });

const timer = setTimeout(() => {
  emit({ kind, peers, error: `only ${reopened} of ${peers} back after ${TIMEOUT_MS} ms` });
  process.exit(1);
}, TIMEOUT_MS);
await back;
const allBackAt = performance.now();
clearTimeout(timer);

/** The most timestamps inside any window of `width` ms (two-pointer sweep over sorted times). */
function peakIn(times: number[], width: number): number {
  let peak = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= width) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}

const start = firstDropAt ?? allBackAt;
emit({
  kind,
  peers,
  allBackMs: allBackAt - start,
  dials: dials.length,
  peakDialsPerSecond: peakIn(dials, 1000),
  peakDialsPer100ms: peakIn(dials, 100),
  firstDialAfterDropMs: dials.length === 0 ? 0 : dials[0]! - start,
  lastDialAfterDropMs: dials.length === 0 ? 0 : dials[dials.length - 1]! - start
});
await fleet.close();
process.exit(0);
