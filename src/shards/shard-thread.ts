import type { Worker } from 'node:worker_threads';
import type { PoolStats } from '../types.ts';
import type { ShardCommand, ShardReport, ThreadInit } from './protocol.ts';
import { spawnThread } from './spawn-thread.ts';

/** What a {@link ShardThread} tells its owner. */
export interface ShardThreadHandlers {
  /** A report from the running thread. */
  report(thread: ShardThread, report: ShardReport): void;
  /** The thread ended without being asked to (a crash, `process.exit`, `terminate()` from outside). */
  crashed(thread: ShardThread, exitCode: number, error: Error | undefined): void;
}

/** A thread this young that dies again makes its next respawn wait longer. */
const STABLE_AFTER_MS = 5000;
const MAX_RESPAWN_DELAY_MS = 5000;

/**
 * The main thread's handle on one shard thread: a command queue posted once
 * per microtask, the latest stats, and respawn with a growing delay for a
 * thread that keeps dying young.
 */
export class ShardThread {
  readonly shard: string;
  /** Counts incarnations; an ack meant for a dead one is not given to its successor. */
  generation = 0;
  restarts = 0;
  stats: PoolStats | undefined;
  readonly #init: ThreadInit;
  readonly #handlers: ShardThreadHandlers;
  #worker: Worker | undefined;
  #queue: ShardCommand[] = [];
  #transfer: ArrayBuffer[] = [];
  #flushQueued = false;
  #startedAt = 0;
  #quickDeaths = 0;
  #respawnTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;

  constructor(shard: string, init: ThreadInit, handlers: ShardThreadHandlers) {
    this.shard = shard;
    this.#init = init;
    this.#handlers = handlers;
    this.#spawn();
  }

  /** The running thread, or `undefined` while it is being respawned. */
  get worker(): Worker | undefined {
    return this.#worker;
  }

  /** Queues a command; every command queued in one tick goes in one post. */
  post(command: ShardCommand): void {
    this.#queue.push(command);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  /** Acknowledges one inbox batch, unless the thread that posted it has died since; `buffer` goes back to the thread. */
  ack(generation: number, buffer?: ArrayBuffer): void {
    if (generation !== this.generation) return;
    if (buffer === undefined) return this.post({ op: 'ack' });
    this.#transfer.push(buffer);
    this.post({ op: 'ack', buffer });
  }

  /** Drops the queued commands (the thread they were meant for is gone); returns them. */
  discardQueue(): ShardCommand[] {
    const dropped = this.#queue;
    this.#queue = [];
    this.#transfer = [];
    return dropped;
  }

  /** Asks the thread to close its pool; resolves when it said `closed` or ended. */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closing = true;
    clearTimeout(this.#respawnTimer);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    if (this.#worker === undefined) this.#finish();
    else this.post({ op: 'close' });
    return this.#closed;
  }

  #finish(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
    this.#resolveClosed?.();
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#worker === undefined || this.#queue.length === 0) return;
    const commands = this.#queue;
    const transfer = this.#transfer;
    this.#queue = [];
    this.#transfer = [];
    if (transfer.length === 0) this.#worker.postMessage(commands);
    else this.#worker.postMessage(commands, transfer);
  }

  #spawn(): void {
    this.generation++;
    this.#startedAt = Date.now();
    const worker = spawnThread(this.#init);
    this.#worker = worker;
    let failure: Error | undefined;
    worker.on('message', (report: ShardReport) => {
      if (report.type === 'stats' || report.type === 'closed') this.stats = report.stats;
      this.#handlers.report(this, report);
      if (report.type === 'closed') this.#finish();
    });
    worker.on('error', (error) => (failure = error));
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      if (this.#closing) return this.#finish();
      this.#handlers.crashed(this, code, failure);
      this.#scheduleRespawn();
    });
    this.#flush();
  }

  #scheduleRespawn(): void {
    this.#quickDeaths = Date.now() - this.#startedAt < STABLE_AFTER_MS ? this.#quickDeaths + 1 : 0;
    // The first respawn is immediate; a thread that keeps dying young waits 100 ms, 200 ms, … up to 5 s.
    const delay = this.#quickDeaths <= 1 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, 100 * 2 ** (this.#quickDeaths - 2));
    this.#respawnTimer = setTimeout(() => {
      this.restarts++;
      this.stats = undefined;
      this.#spawn();
    }, delay);
  }
}
