import { pino } from 'pino';
import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import type { ConnectionOptions, InboxMessage, PoolEvent, PoolPlugin, Worker, WorkerFactory, WorkerStats } from '../types.ts';
import { decreasedCounters, describeThrown, isHoneybeeError, statsProblems, type Report } from './checks.ts';

const silent = pino({ level: 'silent' });

// The handle types that betray a leaked socket or timer.
const WATCHED = ['TCPSocketWrap', 'TCPConnectWrap', 'Timeout'];

/** How many handles of each watched type are alive right now. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) {
    if (WATCHED.includes(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** The watched handles above `baseline`, as text; empty when there are none. */
export function resourcesAbove(baseline: Map<string, number>): string[] {
  const extra: string[] = [];
  for (const [name, count] of activeResources()) {
    const more = count - (baseline.get(name) ?? 0);
    if (more > 0) extra.push(`${more} × ${name}`);
  }
  return extra;
}

/** Resolves true as soon as `condition()` holds, false after `ms`; checks every 10 ms. */
export async function pollUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** A tiny root actor that stands in for the pool actor, the parent of the workers' actors (`plugin.host`). */
function createPoolStandIn(): AnyActorRef {
  return createActor(
    fromCallback(() => () => {}),
    { id: 'contract-pool' }
  ).start();
}

/**
 * One worker under test with a recording fake `PoolPlugin`: its events, its
 * inbox messages, its stats samples. Every observation is checked as it
 * happens and reported to the {@link Report}.
 */
export class WorkerRun {
  readonly events: PoolEvent[] = [];
  readonly inbox: InboxMessage[] = [];
  readonly baseline = activeResources();
  /** Called after an event was recorded, inside the worker's own call. */
  onEvent: ((event: PoolEvent) => void) | undefined;
  settled = false;
  readonly #pool = createPoolStandIn();
  readonly #waiters = new Set<() => void>();
  #lastStats: WorkerStats | undefined;

  private constructor(
    readonly id: string,
    readonly worker: Worker,
    readonly report: Report,
    readonly options: ConnectionOptions,
    readonly abort: AbortController
  ) {}

  /** Calls the factory and checks what it returns; undefined (and a `factory` failure) if it is not a Worker. */
  static open(factory: WorkerFactory, id: string, report: Report, options: ConnectionOptions): WorkerRun | undefined {
    const abort = new AbortController();
    let worker: unknown;
    try {
      worker = factory({ signal: abort.signal }, id, silent);
    } catch (error) {
      report.fail('factory', `the factory threw ${describeThrown(error)}`);
      return undefined;
    }
    const candidate = worker as Partial<Worker> | null;
    if (typeof (candidate as { then?: unknown } | null)?.then === 'function') {
      report.fail('factory', 'the factory returned a Promise; it must return the Worker itself');
      return undefined;
    }
    const methods = ['start', 'stop', 'send', 'stats'] as const;
    if (candidate === null || typeof candidate !== 'object' || methods.some((name) => typeof candidate[name] !== 'function')) {
      report.fail('factory', 'the factory did not return an object with start, stop, send and stats');
      return undefined;
    }
    report.touch('factory');
    return new WorkerRun(id, worker as Worker, report, options, abort);
  }

  /**
   * Why the worker is not connected, as its own events said: its last
   * `dial_failed` error (and how many it reported), or '' if it reported none.
   */
  lastDialFailure(): string {
    const failures = this.events.filter((event) => event.kind === 'dial_failed');
    const last = failures.at(-1);
    if (last === undefined) return '';
    const times = failures.length === 1 ? 'once' : `${failures.length} times`;
    return `; the worker reported dial_failed ${times}, last (attempt ${last.attempt}): ${JSON.stringify(last.error)}`;
  }

  count(kind: PoolEvent['kind']): number {
    return this.events.filter((event) => event.kind === kind).length;
  }

  start(): void {
    const plugin: PoolPlugin = {
      poolId: 'honeybee-testkit',
      inbox: {
        write: (id, data, receivedAt) => this.#write(id, data, receivedAt),
        offer: (id, data, receivedAt) => this.#write(id, data, receivedAt),
        onDrain: () => {}
      },
      events: { write: (event) => this.#record(event) },
      transport: this.options.transport,
      options: this.options,
      logger: silent,
      host: this.#pool
    };
    try {
      const started: unknown = this.worker.start(plugin);
      if (typeof (started as { then?: unknown } | null)?.then !== 'function') {
        this.report.fail('factory', 'start() did not return a Promise');
        this.settled = true;
        return;
      }
      const settle = (): void => {
        this.settled = true;
        this.#notify();
      };
      void Promise.resolve(started).then(settle, settle);
    } catch (error) {
      this.report.fail('factory', `start() threw ${describeThrown(error)}`);
      this.settled = true;
    }
  }

  /** Calls stop() `times` times in a row; any throw fails `stop.idempotent`. */
  stop(times = 1): void {
    for (let i = 0; i < times; i += 1) {
      try {
        this.worker.stop();
      } catch (error) {
        this.report.fail('stop.idempotent', `stop() call ${i + 1} threw ${describeThrown(error)}`);
        return;
      }
    }
    if (times > 1) this.report.touch('stop.idempotent');
  }

  /** Calls send(); returns what it threw, if anything. Anything but a HoneybeeError fails `send.typed`. */
  send(data: string | Uint8Array): unknown {
    try {
      this.worker.send(data);
      return undefined;
    } catch (error) {
      this.report.expect('send.typed', isHoneybeeError(error), `send() threw ${describeThrown(error)}, which is not a HoneybeeError`);
      return error ?? new Error('send() threw a nullish value');
    }
  }

  /** Samples stats() and checks it; returns the sample when it is valid. */
  stats(when: string): WorkerStats | undefined {
    let value: unknown;
    try {
      value = this.worker.stats();
    } catch (error) {
      this.report.fail('stats', `stats() ${when} threw ${describeThrown(error)}`);
      return undefined;
    }
    const problems = statsProblems(value);
    for (const problem of problems) this.report.fail('stats', `stats() ${when}: ${problem}`);
    if (problems.length > 0) return undefined;
    const stats = value as WorkerStats;
    const previous = this.#lastStats;
    if (previous !== undefined) for (const problem of decreasedCounters(previous, stats)) this.report.fail('stats', `${when}: ${problem}`);
    this.report.touch('stats');
    this.#lastStats = stats;
    return stats;
  }

  /** Resolves true when `condition()` holds after some event or message, false after `ms`. */
  waitFor(condition: () => boolean, ms: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(result);
      };
      const check = (): void => {
        if (condition()) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      this.#waiters.add(check);
    });
  }

  /** Resolves true if start() settles within `ms`. */
  async settleWithin(ms: number): Promise<boolean> {
    if (!this.settled) await this.waitFor(() => this.settled, ms);
    return this.settled;
  }

  /** Releases what the kit holds for this run: the stand-in pool actor and the factory signal. */
  dispose(): void {
    this.abort.abort();
    this.#pool.stop();
  }

  #record(event: PoolEvent): void {
    this.events.push(event);
    const stats = this.stats(`inside the ${String(event.kind)} event`);
    if (stats !== undefined && (event.kind === 'connected' || event.kind === 'disconnected')) {
      const expected = event.kind === 'connected';
      this.report.expect('events.alternate', stats.connected === expected, `stats().connected is ${String(stats.connected)} inside the ${event.kind} event`);
    }
    this.onEvent?.(event);
    this.#notify();
  }

  #write(id: string, data: string | Uint8Array, receivedAt: number): boolean {
    this.inbox.push({ id, data, receivedAt });
    const n = this.inbox.length;
    const { report } = this;
    report.expect('inbox.tagged', id === this.id, `message #${n} has id ${JSON.stringify(id)} instead of ${JSON.stringify(this.id)}`);
    report.expect('inbox.tagged', typeof data === 'string' || data instanceof Uint8Array, `message #${n} is neither a string nor a Uint8Array`);
    report.expect('inbox.tagged', Number.isFinite(receivedAt), `message #${n} has no numeric receivedAt`);
    const received = this.stats(`inside inbox write #${n}`)?.received;
    // A worker may count just before or just after handing the message over, but exactly once.
    if (received !== undefined) {
      report.expect('inbox.tagged', received === n || received === n - 1, `stats().received is ${received} while writing message #${n}`);
    }
    this.#notify();
    return true;
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
