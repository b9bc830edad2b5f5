/**
 * A shard module: what runs inside each shard besides its pool. A thread
 * imports it by URL (`createShardedPool({ module })`); a NATS shard takes the
 * same URL, or the same object in-process. Everything a function holds (a
 * worker factory, a transport, per-batch work) lives here, because functions
 * cannot cross a thread boundary.
 */
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { ShardModuleError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Transport } from '../transport.ts';
import type { InboxMessage, WorkerFactory } from '../types.ts';
import { workerFromMachine } from '../worker-from-machine.ts';

/** What `process` is given besides the batch. */
export interface ShardContext {
  /** The shard's id: `t0` … `t<n-1>` in a thread, the shard id in a NATS cluster. */
  readonly shard: string;
  /** The shard's pool id. */
  readonly pool: string;
  /**
   * A logger bound to this shard. In a thread its lines travel to the main
   * thread's logger (with `shard` in their fields); in a NATS shard it is the
   * shard's own logger.
   */
  readonly logger: Logger;
}

/** What happens to a batch whose `process` threw or returned something that is not an array. */
export type FailedBatch = 'drop' | 'pass';

/**
 * What a shard module exports (as its default export, or as named exports).
 * Every field is optional: a module with only `process` keeps the default
 * worker; one with only a worker keeps every message as it is.
 */
export interface ShardModule<TOut = InboxMessage> {
  /** Makes each peer's worker, as `createPool`'s `workerFactory`. Give this or `machine`, not both. */
  readonly workerFactory?: WorkerFactory;
  /** A worker machine, run as `workerFromMachine(machine, { input: machineInput })`. */
  readonly machine?: AnyStateMachine;
  /** Extra input for `machine` (the fields its input takes beyond `{ id, link, timing }`). */
  readonly machineInput?: Record<string, unknown>;
  /** How the shard's sockets are opened, as `createPool`'s `transport`. */
  readonly transport?: Transport;
  /**
   * Runs in the shard on every inbox batch, before it crosses: what it returns
   * (an array, or a promise of one) is what crosses instead: fewer messages
   * (filter, de-duplicate), or other structured-cloneable values (parsed,
   * verified). Batches are processed one at a time, in order.
   */
  readonly process?: (batch: InboxMessage[], context: ShardContext) => readonly TOut[] | Promise<readonly TOut[]>;
  /**
   * The fate of a batch when `process` throws, rejects or returns something
   * that is not an array, or when its result cannot be cloned: `'drop'` (the
   * default) drops it and counts its messages; `'pass'` sends the batch on
   * unprocessed. Either way a `ShardProcessError` is counted and reported.
   */
  readonly failedBatch?: FailedBatch;
}

/** What a shard module's `process` returns, one element of it: `ShardOutput<typeof import('./my-shard.ts').default>`. */
export type ShardOutput<TModule> = TModule extends ShardModule<infer TOut> ? TOut : InboxMessage;

/**
 * Types a shard module: returns its argument unchanged, so the module's
 * `process` is checked against the batch and context it will be given.
 *
 * @example
 * ```ts
 * // relay-shard.ts
 * import { defineShard } from 'honeybee-pool/shards';
 * export default defineShard({
 *   process: (batch) => batch.filter((m) => typeof m.data === 'string' && m.data.startsWith('["EVENT"'))
 * });
 * ```
 */
export function defineShard<TOut = InboxMessage>(module: ShardModule<TOut>): ShardModule<TOut> {
  return module;
}

/** A shard module checked and ready for a pool. */
export interface LoadedShardModule {
  readonly workerFactory: WorkerFactory | undefined;
  readonly transport: Transport | undefined;
  readonly process: ShardModule<unknown>['process'];
  readonly failedBatch: FailedBatch;
}

const FIELDS = new Set(['workerFactory', 'machine', 'machineInput', 'transport', 'process', 'failedBatch']);

/**
 * Checks a shard module's exports (`source` names it in errors) and builds
 * its worker factory.
 *
 * @throws ShardModuleError naming the export that is wrong.
 */
export function checkShardModule(exports: unknown, source: string): LoadedShardModule {
  if (typeof exports !== 'object' || exports === null) throw new ShardModuleError(source, 'it exports no object');
  const namespace = exports as Record<string, unknown>;
  // `export default defineShard({...})`, or the fields as named exports.
  const candidate = typeof namespace.default === 'object' && namespace.default !== null ? namespace.default : namespace;
  const module = candidate as Record<string, unknown>;
  if (![...FIELDS].some((field) => module[field] !== undefined)) {
    throw new ShardModuleError(source, `it exports none of ${[...FIELDS].join(', ')}`);
  }
  const fn = (name: string): void => {
    if (module[name] !== undefined && typeof module[name] !== 'function') throw new ShardModuleError(source, `\`${name}\` is not a function`);
  };
  fn('workerFactory');
  fn('process');
  if (module.workerFactory !== undefined && module.machine !== undefined) {
    throw new ShardModuleError(source, 'it exports both `workerFactory` and `machine`; keep one');
  }
  const machine = module.machine as { config?: unknown; transition?: unknown } | undefined;
  if (machine !== undefined && (typeof machine !== 'object' || machine === null || typeof machine.transition !== 'function')) {
    throw new ShardModuleError(source, '`machine` is not an XState machine (createMachine / setup().createMachine)');
  }
  const transport = module.transport as { open?: unknown } | undefined;
  if (transport !== undefined && (typeof transport !== 'object' || transport === null || typeof transport.open !== 'function')) {
    throw new ShardModuleError(source, '`transport` is not a Transport (an object with open())');
  }
  const failedBatch = module.failedBatch ?? 'drop';
  if (failedBatch !== 'drop' && failedBatch !== 'pass') throw new ShardModuleError(source, "`failedBatch` is neither 'drop' nor 'pass'");
  const input = module.machineInput as Record<string, unknown> | undefined;
  const workerFactory =
    machine !== undefined
      ? (workerFromMachine as (logic: AnyStateMachine, options?: { input?: Record<string, unknown> }) => WorkerFactory)(
          machine as AnyStateMachine,
          input === undefined ? undefined : { input }
        )
      : (module.workerFactory as WorkerFactory | undefined);
  return {
    workerFactory,
    transport: module.transport as Transport | undefined,
    process: module.process as LoadedShardModule['process'],
    failedBatch
  };
}

/**
 * Imports a shard module by URL and checks it.
 *
 * @throws ShardModuleError when the import fails or the exports are wrong.
 */
export async function loadShardModule(url: string): Promise<LoadedShardModule> {
  let exports: unknown;
  try {
    exports = await import(url);
  } catch (error) {
    throw new ShardModuleError(url, `importing it failed: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  return checkShardModule(exports, url);
}

/** The module option as the href a thread imports. @throws ShardModuleError on anything but a URL or a `file:` / absolute path string. */
export function shardModuleHref(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(module)) return new URL(module).href;
  if (typeof module === 'string' && module.startsWith('/')) return pathToFileURL(module).href;
  throw new ShardModuleError(String(module), 'expected `module` to be a URL (new URL("./my-shard.js", import.meta.url)) or an absolute path');
}
