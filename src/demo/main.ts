/**
 * `npm start`: a honeybee pool kept connected to a few peers, with a live
 * status line per peer every second and a summary when it closes.
 * `npm start -- --help` lists the options.
 */
import { HoneybeeError, PeerNotFoundError } from '../errors.ts';
import { normalizeUrl, redactUrl } from '../normalize-url.ts';
import { createInspector } from '../inspector/server.ts';
import { createPool, type Pool } from '../node.ts';
import { createShardedPool } from '../shards/index.ts';
import type { InboxMessage, PoolOptions } from '../types.ts';
import { parseArgs, USAGE } from './args.ts';
import type { DemoSummary } from './demo-shard.ts';
import { countOf, formatShardWork, formatStatus, formatSummary, type ShardWork, type StatusRow } from './format.ts';
import { createScreen } from './screen.ts';
import { startDemoPeers, type DemoPeer, type DemoPeers } from './peers.ts';
import { createTally, restarts, recordEvent, type PeerTally } from './tally.ts';

const TICK_MS = 1000;
const CLOSE_WATCHDOG_MS = 10_000;
// Short timings so reconnects, backoff and keepalive all show up within a few seconds.
const POOL_OPTIONS: PoolOptions = {
  id: 'honeybee-demo',
  reconnectDelay: 500,
  pingInterval: 1000,
  keepaliveTimeout: 3000,
  retry: { initialDelay: 250, maxDelay: 2000 }
};

/** A peer to dial and the name it is shown under. */
type Target = Pick<DemoPeer, 'name' | 'url'>;

/** What the demo uses of a pool: a `Pool`, or a sharded pool whose threads send summaries ({@link DemoSummary}). */
type DemoPool = Pick<Pool, 'connect' | 'peerStats' | 'events' | 'close'> & { readonly inbox: AsyncIterable<InboxMessage | DemoSummary> };

/** The demo's shard module: the source under tsx, the compiled file from the build. */
const DEMO_SHARD = new URL(import.meta.url.endsWith('.ts') ? './demo-shard.ts' : './demo-shard.js', import.meta.url);

/** Every peer the demo dialed, keyed by the id `connect` returned. */
type Tallies = Map<string, PeerTally>;

/** The pool state of a peer; a retired peer has left the registry, so stats() no longer knows it. */
function stateOf(pool: DemoPool, id: string, tally: PeerTally): string {
  try {
    return pool.peerStats(id).state;
  } catch (error) {
    if (error instanceof PeerNotFoundError) return tally.retired ? 'retired' : 'stopped';
    throw error;
  }
}

/** Builds this tick's rows; `previous` holds each peer's message count at the last tick. */
function statusRows(pool: DemoPool, tallies: Tallies, previous: Map<string, number>, sinceMs: number): StatusRow[] {
  return [...tallies].map(([id, tally]) => {
    const rate = ((tally.messages - (previous.get(id) ?? 0)) * 1000) / Math.max(1, sinceMs);
    previous.set(id, tally.messages);
    return {
      name: tally.name,
      ...(tally.shard === undefined ? {} : { shard: tally.shard }),
      state: stateOf(pool, id, tally),
      messages: tally.messages,
      rate,
      restarts: restarts(tally),
      dialFailures: tally.dialFailures,
      lastEvent: tally.lastEvent
    };
  });
}

/** Drains the inbox and the events stream into the tallies; resolves when the pool has closed both. */
async function consume(pool: DemoPool, tallies: Tallies, work: ShardWork | undefined): Promise<void> {
  const inbox = async (): Promise<void> => {
    for await (const value of pool.inbox) {
      const tally = tallies.get(value.id);
      // A thread's summary stands for `frames` messages it parsed there.
      if ('shard' in value) {
        if (tally) {
          tally.messages += value.frames;
          tally.shard = value.shard;
        }
        if (work) recordShardWork(work, value);
      } else if (tally) tally.messages += 1;
    }
  };
  const events = async (): Promise<void> => {
    for await (const event of pool.events) {
      const tally = tallies.get(event.id);
      if (tally) recordEvent(tally, event);
    }
  };
  await Promise.all([inbox(), events()]);
}

/** Resolves after `durationMs`, or on the first SIGINT/SIGTERM when there is no duration. */
function waitForStop(durationMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', stop).off('SIGTERM', stop);
      // A second Ctrl-C while closing means "now": give up on the clean close.
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    const timer = durationMs === undefined ? undefined : setTimeout(stop, durationMs);
    process.once('SIGINT', stop).once('SIGTERM', stop);
  });
}

/** Registers every peer; returns the tallies, or the library's typed error if `connect` refuses one. */
function connectAll(pool: DemoPool, peers: readonly Target[]): Tallies | HoneybeeError {
  const tallies: Tallies = new Map();
  for (const peer of peers) {
    try {
      tallies.set(pool.connect(peer.url), createTally(peer.name));
    } catch (error) {
      if (error instanceof HoneybeeError) return error;
      throw error;
    }
  }
  return tallies;
}

/** Counts one summary into the per-thread work. */
function recordShardWork(work: ShardWork, summary: DemoSummary): void {
  const shard = work.get(summary.shard) ?? { frames: 0, unparsed: 0, crossed: 0, peers: new Set<string>() };
  work.set(summary.shard, shard);
  shard.frames += summary.frames;
  shard.unparsed += summary.unparsed;
  shard.crossed += 1;
  shard.peers.add(summary.id);
}

/** Draws the status block every tick; `finish()` stops, draws a last block and returns the elapsed ms. */
function startTicker(pool: DemoPool, tallies: Tallies, work: ShardWork | undefined): { finish(): number } {
  const startedAt = Date.now();
  const screen = createScreen(process.stdout);
  const previous = new Map<string, number>();
  let lastDraw = startedAt;
  const draw = (): void => {
    const now = Date.now();
    // The rate is over the real gap: the final block can come well before a full tick.
    const status = formatStatus(statusRows(pool, tallies, previous, now - lastDraw), now - startedAt, now);
    screen.draw(work === undefined ? status : [...status, ...formatShardWork(work)]);
    lastDraw = now;
  };
  const timer = setInterval(draw, TICK_MS);
  return {
    finish() {
      clearInterval(timer);
      // One last block, so the final states sit above the summary (unless a tick just drew them).
      if (Date.now() - lastDraw >= TICK_MS / 4) draw();
      return Date.now() - startedAt;
    }
  };
}

/** Closes the pool, waits for the consumers, stops the embedded peers; returns how long that took, ms. */
async function closeAll(pool: DemoPool, consumed: Promise<void>, embedded: DemoPeers | undefined): Promise<number> {
  // close() is bounded by closeTimeout; if it still hangs, fail loudly rather than sit there.
  setTimeout(() => {
    console.error(`honeybee demo: close did not finish within ${CLOSE_WATCHDOG_MS} ms`);
    process.exit(1);
  }, CLOSE_WATCHDOG_MS).unref();
  const start = performance.now();
  await pool.close();
  await consumed;
  await embedded?.close();
  return Math.round(performance.now() - start);
}

/** Runs the pool until the duration ends or a signal arrives, then prints the summary. */
async function run(peers: readonly Target[], durationMs: number | undefined, embedded?: DemoPeers, inspect = false, shards?: number): Promise<number> {
  const inspector = inspect ? await createInspector() : undefined;
  let pool: DemoPool;
  let work: ShardWork | undefined;
  if (shards !== undefined) {
    // Each thread parses its peers' frames in the shard module's `process` and sends summaries across.
    pool = createShardedPool<DemoSummary>({ ...POOL_OPTIONS, shards, module: DEMO_SHARD });
    work = new Map();
    console.log(`honeybee demo: peers spread over ${shards} worker thread(s) by rendezvous hashing; each thread parses its peers' frames (src/demo/demo-shard.ts)\n`);
  } else {
    const single = createPool(inspector ? { ...POOL_OPTIONS, inspect: inspector.inspect } : POOL_OPTIONS);
    inspector?.watch(single);
    pool = single;
  }
  if (inspector) {
    console.log(`honeybee demo: inspector at ${inspector.url}\n`);
  }
  const tallies = connectAll(pool, peers);
  if (tallies instanceof HoneybeeError) {
    console.error(`honeybee demo: ${tallies.message} (${tallies.code})`);
    await Promise.all([pool.close(), embedded?.close(), inspector?.close()]);
    return 2;
  }
  const consumed = consume(pool, tallies, work);
  const ticker = startTicker(pool, tallies, work);
  await waitForStop(durationMs);
  const elapsed = ticker.finish();
  const closeMs = await closeAll(pool, consumed, embedded);
  await inspector?.close();
  console.log(formatSummary([...tallies.values()], elapsed).join('\n'));
  if (work !== undefined) console.log(formatShardWork(work).join('\n'));
  console.log(`honeybee demo: closed cleanly in ${closeMs} ms`);
  return 0;
}

/** Parses the command line, picks the peers and runs; resolves with the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  const command = parseArgs(argv);
  if (command.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command.kind === 'invalid') {
    console.error(`honeybee demo: ${command.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.urls.length > 0) {
    // Ids carry any user:password of the URL; the name is what gets printed.
    const peers = command.urls.map((url) => ({ name: redactUrl(normalizeUrl(url)), url }));
    console.log(`honeybee demo: dialing ${countOf(peers.length, 'peer')} (--help for options)\n`);
    return run(peers, command.durationMs, undefined, command.inspect, command.shards);
  }
  const embedded = await startDemoPeers();
  const width = Math.max(...embedded.peers.map((peer) => peer.name.length));
  console.log(`honeybee demo: ${countOf(embedded.peers.length, 'embedded peer')} (--help for options)`);
  for (const peer of embedded.peers) console.log(`  ${peer.name.padEnd(width)}  ${peer.url}  ${peer.description}`);
  console.log('');
  return run(embedded.peers, command.durationMs, embedded, command.inspect, command.shards);
}

// exitCode rather than exit(): let stdout flush, and let a leaked handle show up as a hang.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('honeybee demo failed:', error);
    process.exitCode = 1;
  }
);
