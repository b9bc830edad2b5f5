import type { DisconnectCause, PoolEvent } from '../types.ts';
import { disconnectTotal, restarts, type PeerTally } from './tally.ts';

/** One peer's line of the live status block. */
export interface StatusRow {
  readonly name: string;
  /** The thread its frames are parsed on (`--shards`). */
  readonly shard?: string;
  /** `dialing`, `connected`, `backoff`, `closing`, `stopped` or `retired`. */
  readonly state: string;
  readonly messages: number;
  /** Messages per second over the last tick. */
  readonly rate: number;
  readonly restarts: number;
  readonly dialFailures: number;
  readonly lastEvent: PoolEvent | undefined;
}

type Align = 'left' | 'right';

// Dial errors carry the whole OS message; the status line only has room for the gist.
const MAX_ERROR_CHARS = 48;
// Fixed order so summary rows line up run after run.
const CAUSES: readonly DisconnectCause[] = ['remote_close', 'remote_error', 'network_error', 'keepalive_timeout', 'read_limit', 'local_stop'];

/** A count with thousands separators: `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A count with its noun, singular for exactly one: `1 peer`, `2 peers`, `1,200 messages`. */
export function countOf(n: number, noun: string): string {
  return `${formatCount(n)} ${Math.round(n) === 1 ? noun : `${noun}s`}`;
}

/** Seconds with one decimal: `3.0s`. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The last event as a few words, e.g. `disconnected keepalive_timeout 1.2s ago`, or `-` if none yet. */
export function formatLastEvent(event: PoolEvent | undefined, now: number): string {
  if (event === undefined) return '-';
  const ago = `${formatSeconds(now - event.at)} ago`;
  switch (event.kind) {
    case 'connected':
      return `connected ${ago}`;
    case 'disconnected':
      return `disconnected ${event.cause} (${event.code}) ${ago}`;
    case 'dial_failed':
      return `dial_failed #${event.attempt} ${ago}: ${truncate(event.error, MAX_ERROR_CHARS)}`;
    case 'retired':
      return `retired after ${event.attempts} attempts ${ago}`;
  }
}

/** Lays out rows under a header, padding each column to its widest cell. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, align: readonly Align[]): string[] {
  const widths = header.map((title, col) => Math.max(title.length, ...rows.map((row) => (row[col] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, col) => {
        // The last column is free text: padding it would only add trailing spaces.
        if (col === cells.length - 1) return cell;
        const width = widths[col] ?? 0;
        return align[col] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * The live status block: a header with the elapsed time and totals, then one
 * line per peer (name, state, messages, rate, restarts, dial failures, last event).
 */
export function formatStatus(rows: readonly StatusRow[], elapsedMs: number, now: number): string[] {
  const connected = rows.filter((row) => row.state === 'connected').length;
  const total = rows.reduce((sum, row) => sum + row.messages, 0);
  const rate = rows.reduce((sum, row) => sum + row.rate, 0);
  const header =
    `[${formatSeconds(elapsedMs).padStart(6)}] ${countOf(rows.length, 'peer')}, ${connected} connected, ` + `${countOf(total, 'message')} (${formatCount(rate)}/s)`;
  // With shards, a THREAD column says where each peer's frames are parsed.
  const threads = rows.some((row) => row.shard !== undefined);
  const table = formatTable(
    ['PEER', ...(threads ? ['THREAD'] : []), 'STATE', 'MESSAGES', 'MSG/S', 'RESTARTS', 'DIAL FAILS', 'LAST EVENT'],
    rows.map((row) => [
      row.name,
      ...(threads ? [row.shard ?? '-'] : []),
      row.state,
      formatCount(row.messages),
      formatCount(row.rate),
      formatCount(row.restarts),
      formatCount(row.dialFailures),
      formatLastEvent(row.lastEvent, now)
    ]),
    ['left', ...(threads ? (['left'] as const) : []), 'left', 'right', 'right', 'right', 'right', 'left']
  );
  return [header, ...table.map((line) => `  ${line}`)];
}

/** What one thread's shard module has done, as the demo counts it from the summaries that crossed. */
export interface ShardThreadWork {
  /** Frames it parsed. */
  frames: number;
  /** Frames that were not JSON. */
  unparsed: number;
  /** Summaries it sent across instead of the frames. */
  crossed: number;
  peers: Set<string>;
}

/** Per thread id (`t0`, `t1`, …). */
export type ShardWork = Map<string, ShardThreadWork>;

/** The work done in the threads: one line per thread, frames parsed there against values that crossed. */
export function formatShardWork(work: ShardWork): string[] {
  const shards = [...work.keys()].sort();
  const frames = shards.reduce((sum, shard) => sum + (work.get(shard)?.frames ?? 0), 0);
  const crossed = shards.reduce((sum, shard) => sum + (work.get(shard)?.crossed ?? 0), 0);
  const table = formatTable(
    ['THREAD', 'PEERS', 'FRAMES PARSED', 'NOT JSON', 'VALUES CROSSED'],
    shards.map((shard) => {
      const done = work.get(shard) as ShardThreadWork;
      return [shard, formatCount(done.peers.size), formatCount(done.frames), formatCount(done.unparsed), formatCount(done.crossed)];
    }),
    ['left', 'right', 'right', 'right', 'right']
  );
  const ratio = crossed === 0 ? '' : ` (${formatCount(frames / crossed)} frames per value)`;
  return [`work in the threads: ${countOf(frames, 'frame')} parsed there, ${countOf(crossed, 'value')} crossed${ratio}`, ...table.map((line) => `  ${line}`)];
}

/** Disconnects by cause in a fixed order, e.g. `remote_close 1, keepalive_timeout 2`, or `-`. */
export function formatCauses(disconnects: PeerTally['disconnects']): string {
  const parts = CAUSES.filter((cause) => (disconnects[cause] ?? 0) > 0).map((cause) => `${cause} ${disconnects[cause]}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}

/** The closing summary: one row per peer (messages, connects, dial failures, disconnects by cause) and a total row. */
export function formatSummary(tallies: readonly PeerTally[], elapsedMs: number): string[] {
  const sum = (pick: (tally: PeerTally) => number): number => tallies.reduce((acc, tally) => acc + pick(tally), 0);
  const row = (name: string, messages: number, connects: number, recon: number, dials: number, causes: string): string[] => [
    name,
    formatCount(messages),
    formatCount(connects),
    formatCount(recon),
    formatCount(dials),
    causes
  ];
  const rows = tallies.map((t) => row(t.name, t.messages, t.connects, restarts(t), t.dialFailures, formatCauses(t.disconnects)));
  const totals = row(
    'TOTAL',
    sum((t) => t.messages),
    sum((t) => t.connects),
    sum(restarts),
    sum((t) => t.dialFailures),
    countOf(sum(disconnectTotal), 'disconnect')
  );
  const table = formatTable(
    ['PEER', 'MESSAGES', 'CONNECTS', 'RESTARTS', 'DIAL FAILS', 'DISCONNECTS BY CAUSE'],
    [...rows, totals],
    ['left', 'right', 'right', 'right', 'right', 'left']
  );
  return [`summary after ${formatSeconds(elapsedMs)}:`, ...table.map((line) => `  ${line}`)];
}
