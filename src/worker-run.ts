import type { PoolPlugin, Worker } from './types.ts';

/** How a run ended: `undefined` for a clean end, the reason when the worker failed. */
export type RunFailure = { error: unknown } | undefined;

/**
 * The one protocol the pool runs every worker by: `run` starts it and
 * reports its end, once, to `onEnd` (with the plugin it was started with, so
 * the pool shares one callback among all its peers rather than a closure or
 * a promise chain per peer). Workers made by `workerFromMachine` implement it
 * themselves; any other {@link Worker} is adapted to it once, at the factory,
 * by {@link runnableWorker}.
 */
export interface RunnableWorker extends Worker {
  run<P extends PoolPlugin>(plugin: P, onEnd: (plugin: P, failure: RunFailure) => void): void;
  /**
   * Called by the pool when its actor reports that an actor named like this
   * worker's peer crashed: a worker whose own actor is the one that failed
   * ends its run now (and returns true). Workers without an actor of their
   * own do not have it.
   */
  settleCrash?(): boolean;
}

/** A {@link Worker} run through its public `start()`: the promise it returns settles the run. */
class StartedWorker implements RunnableWorker {
  // Only where the worker has one: `pool.reconnect(id)` refuses a worker without it.
  reconnect?: () => void;

  constructor(readonly worker: Worker) {
    if (typeof worker.reconnect === 'function') this.reconnect = () => worker.reconnect?.();
  }

  run<P extends PoolPlugin>(plugin: P, onEnd: (plugin: P, failure: RunFailure) => void): void {
    let started: Promise<void>;
    try {
      started = this.worker.start(plugin);
    } catch (error) {
      onEnd(plugin, { error });
      return;
    }
    Promise.resolve(started).then(
      () => onEnd(plugin, undefined),
      (error: unknown) => onEnd(plugin, { error })
    );
  }

  start(plugin: PoolPlugin): Promise<void> {
    return this.worker.start(plugin);
  }

  stop(): void {
    this.worker.stop();
  }

  send(data: string | Uint8Array | ArrayBuffer): void {
    this.worker.send(data);
  }

  stats(): ReturnType<Worker['stats']> {
    return this.worker.stats();
  }
}

/**
 * The worker as the pool runs it: itself when `native` (the factory is one
 * of `workerFromMachine`'s, whose workers implement {@link RunnableWorker}),
 * else adapted so that its `start()` promise reports the end.
 */
export function runnableWorker(worker: Worker, native: boolean): RunnableWorker {
  return native ? (worker as RunnableWorker) : new StartedWorker(worker);
}
