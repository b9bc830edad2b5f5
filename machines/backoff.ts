/** How long to wait between failed dials. All durations are milliseconds. */
export interface BackoffPolicy {
  /** The wait before the second retry; later waits double from here. */
  initialDelay: number;
  /** The ceiling of every wait; once the doubling reaches it, waits are exactly this. */
  maxDelay: number;
  /** Spread of the random factor: waits are scaled by a value in `[1 − j/2, 1 + j/2]`. */
  jitter: number;
}

// The largest double below 1, so a clamped random value stays in [0, 1).
const BELOW_ONE = 1 - 2 ** -53;

/**
 * The wait before retry number `attempt`, in whole milliseconds.
 *
 * `attempt` is 1-based: retry 1 follows the first failure and is immediate.
 * Retry n ≥ 2 waits `initialDelay · 2^(n−2)` scaled by a jitter factor drawn
 * from `random()`, capped at `maxDelay`; once the doubling alone reaches
 * `maxDelay` the wait is exactly `maxDelay`, without jitter. The result is
 * always a finite integer in `[0, maxDelay]`, whatever the inputs: a NaN
 * attempt counts as 0, fractions are floored, and a `random()` outside
 * `[0, 1)` is clamped (or taken as 0.5 when it is not a number at all).
 * `random` is only called when jitter applies.
 *
 * @example
 * ```ts
 * const policy = { initialDelay: 1000, maxDelay: 5000, jitter: 0 };
 * [1, 2, 3, 4, 5, 6].map((n) => computeBackoff(n, policy, Math.random));
 * // → [0, 1000, 2000, 4000, 5000, 5000]
 * ```
 */
export function computeBackoff(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const cap = Math.floor(clampDuration(policy.maxDelay));
  const initial = clampDuration(policy.initialDelay);
  // NaN compares false everywhere, so it falls through to the immediate retry.
  if (!(attempt >= 2) || initial === 0 || cap === 0) return 0;
  // Doubling overflows to Infinity for large attempts, never to NaN, because
  // `initial` is a positive finite number here.
  const base = attempt === Infinity ? Infinity : initial * 2 ** (Math.floor(attempt) - 2);
  if (base >= cap) return cap;
  return Math.min(cap, Math.round(base * jitterFactor(policy.jitter, random)));
}

/**
 * The factor a jittered wait is multiplied by: drawn from
 * `[1 − jitter/2, 1 + jitter/2]`, with `jitter` clamped to [0, 1] and a
 * random source that returns NaN or a non-number read as the middle.
 */
export function jitterFactor(jitter: number, random: () => number): number {
  const spread = clamp(jitter, 0, 1);
  if (spread === 0) return 1;
  return 1 - spread / 2 + spread * unitRandom(random);
}

// Maps a duration to [0, MAX_SAFE_INTEGER]; NaN becomes 0.
function clampDuration(value: number): number {
  return clamp(value, 0, Number.MAX_SAFE_INTEGER);
}

function clamp(value: number, low: number, high: number): number {
  if (!(value >= low)) return low;
  return value > high ? high : value;
}

function unitRandom(random: () => number): number {
  const value: unknown = random();
  if (typeof value !== 'number' || Number.isNaN(value)) return 0.5;
  return clamp(value, 0, BELOW_ONE);
}
