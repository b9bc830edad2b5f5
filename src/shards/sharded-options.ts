import type { Logger } from '../logger.ts';
import { InvalidOptionError, type ShardProcessError } from '../errors.ts';
import type { ThreadPoolOptions } from './protocol.ts';
import { shardModuleHref } from './shard-module.ts';

/** What `createShardedPool(options)` accepts: pool options that can cross a thread, plus the shard settings. */
export interface ShardedPoolOptions extends ThreadPoolOptions {
  /** How many worker threads (shards) to run; each runs its own pool. */
  shards: number;
  /** The main thread's logger (threads log nothing). @default silent */
  logger?: Logger;
  /** Closes the pool when aborted, as `createPool`'s `signal`. */
  signal?: AbortSignal;
  /** How often each thread reports its stats, ms. @default 500 */
  statsInterval?: number;
  /** Largest inbox batch a thread posts at once. @default 512 */
  maxBatch?: number;
  /**
   * The shard module every thread imports (`new URL('./relay-shard.js', import.meta.url)`,
   * or an absolute path): its worker factory or machine, its transport, and its
   * `process`, which runs in the thread on each inbox batch. See `defineShard`.
   */
  module?: URL | string;
  /** Called on the main thread for each batch a shard's `process` failed on (also counted and logged). */
  onProcessError?: (error: ShardProcessError) => void;
}

/** {@link ShardedPoolOptions} with the shard settings filled in. */
export type CheckedShardedOptions = ShardedPoolOptions & { statsInterval: number; maxBatch: number; moduleHref: string | undefined };

const MAX_SHARDS = 256;

function positiveInteger(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(name, max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from 1 to ${max}`, value);
  }
  return value;
}

/**
 * Checks the shard settings and refuses options a thread cannot receive:
 * functions (`workerFactory`, `transport`, `inspect`, …) do not survive a
 * structured clone. The remaining pool options are checked by the pool's own rules.
 */
export function checkShardedOptions(options: unknown): CheckedShardedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('options', 'an object with at least `shards`', options);
  }
  const input = options as Record<string, unknown>;
  if (input.shards === undefined) throw new InvalidOptionError('shards', `an integer from 1 to ${MAX_SHARDS}`, undefined);
  const shards = positiveInteger('shards', input.shards, 1, MAX_SHARDS);
  for (const [name, value] of Object.entries(input)) {
    if (
      name !== 'logger' &&
      name !== 'signal' &&
      name !== 'onProcessError' &&
      (typeof value === 'function' || ((name === 'inspect' || name === 'transport') && value !== undefined))
    ) {
      throw new InvalidOptionError(name, 'unset in a sharded pool (a function cannot cross a thread boundary: export it from the shard `module`)', value);
    }
  }
  if (input.onProcessError !== undefined && typeof input.onProcessError !== 'function') {
    throw new InvalidOptionError('onProcessError', 'a function of the ShardProcessError', input.onProcessError);
  }
  return {
    ...(input as unknown as ShardedPoolOptions),
    shards,
    statsInterval: positiveInteger('statsInterval', input.statsInterval, 500),
    maxBatch: positiveInteger('maxBatch', input.maxBatch, 512),
    moduleHref: input.module === undefined ? undefined : moduleHref(input.module)
  };
}

function moduleHref(module: unknown): string {
  try {
    return shardModuleHref(module);
  } catch {
    throw new InvalidOptionError('module', 'a URL (new URL("./my-shard.js", import.meta.url)) or an absolute path', module);
  }
}
