import { CLOSE_CAUSES } from '../../machines/worker-events.ts';
import { ErrorCodes } from '../errors.ts';
import type { PoolEvent, WorkerStats } from '../types.ts';
import type { ContractCheckId, ContractOptions, ContractResult } from './types.ts';

/** Every check the kit runs, in report order. */
export const CONTRACT_CHECKS = [
  { id: 'factory', name: 'the factory returns a Worker synchronously' },
  { id: 'stats', name: 'stats() returns a complete snapshot synchronously, never throws, and its counters never go down' },
  { id: 'stop.before-start', name: 'stop() before start() makes start() settle at once without connecting' },
  { id: 'stop.idempotent', name: 'stop() can be called again and again and never throws' },
  { id: 'stop.dialing', name: 'stop() during a dial settles start() in bounded time and abandons the dial' },
  { id: 'stop.backoff', name: 'stop() in backoff settles start() without waiting out the delay' },
  { id: 'stop.concurrent', name: 'stop() racing start() or the opening handshake settles start()' },
  { id: 'stop.connected', name: 'stop() while connected emits disconnected and settles start() in bounded time' },
  { id: 'send.unavailable', name: 'send() throws ConnectionUnavailableError whenever it cannot send' },
  { id: 'send.typed', name: 'send() works right after connected and never throws anything but a HoneybeeError' },
  { id: 'events.alternate', name: 'events alternate connected/disconnected per connection, each with the id and a timestamp' },
  { id: 'inbox.tagged', name: 'every inbox message carries the id and counts once in stats().received' },
  { id: 'cleanup', name: 'the worker leaves no socket or timer behind' }
] as const satisfies ReadonlyArray<{ readonly id: string; readonly name: string }>;

const PEER_CHECKS: readonly ContractCheckId[] = ['stop.dialing', 'stop.backoff'];

/** The checks with the reasons some of them will be skipped, known before anything runs. */
export function plannedChecks(options: ContractOptions): Array<{ id: ContractCheckId; name: string; skipped?: string }> {
  return CONTRACT_CHECKS.map(({ id, name }) => {
    const reason = options.skip?.[id] ?? (options.offline !== undefined && PEER_CHECKS.includes(id) ? options.offline.reason : undefined);
    return reason === undefined ? { id, name } : { id, name, skipped: reason };
  });
}

const MAX_MESSAGES = 5;

/** Collects what each check saw; a check passes if it was exercised and nothing failed. */
export class Report {
  readonly #failures = new Map<ContractCheckId, string[]>();
  readonly #exercised = new Set<ContractCheckId>();
  #notRun = 'it was never exercised';

  touch(id: ContractCheckId): void {
    this.#exercised.add(id);
  }

  fail(id: ContractCheckId, message: string): void {
    this.#exercised.add(id);
    const list = this.#failures.get(id) ?? [];
    if (!list.includes(message) && list.length < MAX_MESSAGES) list.push(message);
    this.#failures.set(id, list);
  }

  /** Records a failure unless `condition` holds; either way the check counts as exercised. */
  expect(id: ContractCheckId, condition: boolean, message: string): boolean {
    if (condition) this.touch(id);
    else this.fail(id, message);
    return condition;
  }

  /** Why unexercised checks did not run (e.g. the factory failed). */
  notRunBecause(reason: string): void {
    this.#notRun = reason;
  }

  results(options: ContractOptions): ContractResult[] {
    return plannedChecks(options).map(({ id, name, skipped }): ContractResult => {
      if (skipped !== undefined) return { id, name, ok: true, skipped };
      const failures = this.#failures.get(id);
      if (failures !== undefined) return { id, name, ok: false, error: failures.join('; ') };
      if (!this.#exercised.has(id)) return { id, name, ok: false, error: `not run: ${this.#notRun}` };
      return { id, name, ok: true };
    });
  }
}

/** True for a HoneybeeError, recognized by its code so that two copies of the library still agree. */
export function isHoneybeeError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('HONEYBEE_ERR_');
}

/** True for a ConnectionUnavailableError, by code. */
export function isConnectionUnavailable(error: unknown): boolean {
  return isHoneybeeError(error) && (error as { code: string }).code === ErrorCodes.CONNECTION_UNAVAILABLE;
}

/** A short description of a thrown value for failure messages. */
export function describeThrown(error: unknown): string {
  if (!(error instanceof Error)) return `a non-Error value (${String(error)})`;
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` (${code})` : ''}: ${error.message}`;
}

const COUNTERS = ['received', 'sent', 'bytesIn', 'bytesOut', 'restarts', 'dialFailures'] as const;
const NUMBERS = [...COUNTERS, 'attempt', 'bufferedAmount'] as const;
const OPTIONAL_NUMBERS = ['connectedSince', 'lastMessageAt'] as const;

const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** What is wrong with a stats() result; empty when it is a complete {@link WorkerStats}. */
export function statsProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [`returned ${String(value)}`];
  if (typeof (value as { then?: unknown }).then === 'function') return ['returned a Promise: stats() must not wait'];
  const stats = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof stats.state !== 'string' || stats.state === '') problems.push('`state` is not a non-empty string');
  for (const key of ['connected', 'paused']) if (typeof stats[key] !== 'boolean') problems.push(`\`${key}\` is not a boolean`);
  for (const key of NUMBERS) if (!isCount(stats[key])) problems.push(`\`${key}\` is not a finite number ≥ 0`);
  for (const key of OPTIONAL_NUMBERS) {
    if (stats[key] !== undefined && typeof stats[key] !== 'number') problems.push(`\`${key}\` is neither a number nor undefined`);
  }
  if (stats.lastError !== undefined && typeof stats.lastError !== 'string') problems.push('`lastError` is neither a string nor undefined');
  return problems;
}

/** Counters of `next` that are below `previous`. */
export function decreasedCounters(previous: WorkerStats, next: WorkerStats): string[] {
  return COUNTERS.filter((key) => next[key] < previous[key]).map((key) => `\`${key}\` went from ${previous[key]} to ${next[key]}`);
}

const CAUSES: ReadonlySet<string> = new Set(CLOSE_CAUSES);

function eventShapeProblems(event: PoolEvent, index: number, id: string): string[] {
  const problems: string[] = [];
  const where = `event #${index + 1} (${String(event.kind)})`;
  if (event.id !== id) problems.push(`${where} has id ${JSON.stringify(event.id)} instead of ${JSON.stringify(id)}`);
  if (typeof event.at !== 'number' || !Number.isFinite(event.at)) problems.push(`${where} has no numeric \`at\``);
  if (event.kind === 'disconnected' && (typeof event.code !== 'number' || typeof event.reason !== 'string' || !CAUSES.has(event.cause))) {
    problems.push(`${where} needs a numeric code, a string reason and a known cause`);
  }
  if (event.kind === 'dial_failed' && (!Number.isInteger(event.attempt) || event.attempt < 1 || typeof event.error !== 'string')) {
    problems.push(`${where} needs an attempt ≥ 1 and a string error`);
  }
  return problems;
}

/**
 * What is wrong with one worker's event sequence: shapes, alternation of
 * `connected`/`disconnected`, no `dial_failed` or `retired` while connected,
 * nothing after `retired`, and no open connection once `start()` settled.
 */
export function lifecycleProblems(events: readonly PoolEvent[], id: string, finished: boolean): string[] {
  const problems: string[] = [];
  let connected = false;
  events.forEach((event, index) => {
    problems.push(...eventShapeProblems(event, index, id));
    const where = `event #${index + 1} (${String(event.kind)})`;
    if (event.kind === 'connected') {
      if (connected) problems.push(`${where} follows another connected without a disconnected`);
      connected = true;
    } else if (event.kind === 'disconnected') {
      if (!connected) problems.push(`${where} has no connected before it`);
      connected = false;
    } else if (event.kind === 'dial_failed' || event.kind === 'retired') {
      if (connected) problems.push(`${where} arrived while connected`);
      if (event.kind === 'retired' && index !== events.length - 1) problems.push(`${where} is followed by more events`);
    } else {
      problems.push(`${where} is not a known kind`);
    }
  });
  if (finished && connected) problems.push('start() settled but the last connected event has no disconnected');
  return problems;
}
