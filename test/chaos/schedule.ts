/**
 * The nemesis's schedule: which faults, when, how long and on which shard,
 * drawn from a seeded PRNG so a seed always gives the same schedule.
 */
import { seededRandom } from '../helpers/seeded-random.ts';

/** Every fault kind the nemesis injects. */
export const FAULT_KINDS = [
  // nats-server restarts: SIGTERM or SIGKILL, down for < leaseTtl − heartbeat, between that and leaseTtl, > leaseTtl.
  'nats-term-short',
  'nats-term-mid',
  'nats-term-long',
  'nats-kill-short',
  'nats-kill-mid',
  'nats-kill-long',
  // A shard kill -9'd, restarted with the same id.
  'shard-kill9',
  // A shard SIGSTOPped for longer than leaseTtl, then SIGCONT.
  'shard-pause',
  // A shard cut off from NATS (its proxy resets and refuses), its peers still reachable.
  'shard-cut',
  // A shard's NATS connection frozen (its proxy forwards nothing, TCP stays up).
  'shard-freeze',
  // A slow server: every shard's proxy delays every byte.
  'nats-slow',
  // A new shard joins.
  'shard-join',
  // Every shard in turn stops gracefully (SIGTERM) and starts again.
  'rolling-restart'
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that take one shard away and bring it back: only its share may move. */
export const ONE_SHARD_KINDS: ReadonlySet<string> = new Set(['shard-kill9', 'shard-pause', 'shard-cut', 'shard-freeze']);

export interface Fault {
  readonly kind: FaultKind;
  /** Wait after the previous fault healed (or the start), ms. */
  readonly gap: number;
  /** How long the fault lasts, ms (for a restart: down time; for slow: the delay's duration). */
  readonly ms: number;
  /** Which live shard, as an index into the sorted live shard ids (modulo their count). */
  readonly target: number;
  /** Added latency for `nats-slow`, ms. */
  readonly delay: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  /** Time for faults, ms (the run adds its start and the final settle). */
  readonly duration: number;
  readonly leaseTtl: number;
  readonly heartbeat: number;
  /** Only these kinds, each once, in a seeded order (the CI slices); otherwise a seeded deck of every kind. */
  readonly kinds?: readonly FaultKind[] | undefined;
  /** Gap between faults: from `settleGap` (lets each fault settle, and be judged, before the next) to that + 1 s. @default leaseTtl + heartbeat + 4000 */
  readonly settleGap?: number | undefined;
}

/** About how long a fault takes beyond its `ms` (process starts, joins). */
function overhead(kind: FaultKind, heartbeat: number): number {
  if (kind === 'rolling-restart') return 3 * (2500 + heartbeat);
  if (kind === 'shard-kill9' || kind === 'shard-join') return 2500 + heartbeat;
  return 300;
}

/** The seeded schedule. */
export function makeSchedule(options: ScheduleOptions): Fault[] {
  const random = seededRandom(options.seed);
  const { leaseTtl: lease, heartbeat: beat } = options;
  const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
  const settleGap = options.settleGap ?? lease + beat + 4000;
  const fault = (kind: FaultKind): Fault => {
    let ms = 0;
    if (kind.endsWith('-short')) ms = between(200, Math.max(300, lease - beat - 300));
    else if (kind.endsWith('-mid')) ms = between(lease - beat + 100, lease - 100);
    else if (kind.endsWith('-long')) ms = between(lease + 300, lease * 1.6);
    else if (kind === 'shard-kill9') ms = between(300, lease * 1.5);
    else if (kind === 'shard-pause' || kind === 'shard-cut' || kind === 'shard-freeze') ms = between(lease * 1.2, lease * 1.6);
    else if (kind === 'nats-slow') ms = between(1500, 3000);
    return { kind, gap: between(settleGap, settleGap + 1000), ms, target: Math.floor(random() * 1000), delay: between(50, Math.max(100, beat / 2)) };
  };
  if (options.kinds !== undefined) return shuffle(options.kinds).map(fault);
  const faults: Fault[] = [];
  let deck: FaultKind[] = [];
  let used = 0;
  for (;;) {
    if (deck.length === 0) deck = shuffle(FAULT_KINDS);
    const next = fault(deck.shift() as FaultKind);
    used += next.gap + next.ms + overhead(next.kind, beat);
    if (used > options.duration) return faults;
    faults.push(next);
  }
}
