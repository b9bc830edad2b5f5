import type { Logger } from './logger.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * The logger of one peer: the pool's logger with `{ peer: label }` added to
 * every line, as `pool.child({ peer: label })` would give, but without
 * creating that child for each of thousands of peers (a pino child is an
 * object, a serialized bindings string and a few microseconds each). Lines
 * go to the pool's logger with the `peer` field first; `child()` creates
 * the real child when someone asks for one.
 */
export class PeerLogger implements Logger {
  readonly #parent: Logger;
  readonly #label: string;

  constructor(parent: Logger, label: string) {
    this.#parent = parent;
    this.#label = label;
  }

  debug(fields: unknown, message?: string, ...rest: unknown[]): void {
    this.#write('debug', fields, message, rest);
  }

  info(fields: unknown, message?: string, ...rest: unknown[]): void {
    this.#write('info', fields, message, rest);
  }

  warn(fields: unknown, message?: string, ...rest: unknown[]): void {
    this.#write('warn', fields, message, rest);
  }

  error(fields: unknown, message?: string, ...rest: unknown[]): void {
    this.#write('error', fields, message, rest);
  }

  child(bindings: Record<string, unknown>): Logger {
    return this.#parent.child({ peer: this.#label, ...bindings });
  }

  #write(level: Level, fields: unknown, message: string | undefined, rest: unknown[]): void {
    const peer = this.#label;
    if (typeof fields === 'string') {
      // A message alone (with printf arguments after it).
      if (message === undefined) this.#parent[level]({ peer }, fields);
      else this.#parent[level]({ peer }, fields, message, ...rest);
      return;
    }
    // pino serializes an Error given as the fields under `err`.
    const merged = fields instanceof Error ? { peer, err: fields } : { peer, ...(fields as object) };
    if (message === undefined) this.#parent[level](merged);
    else this.#parent[level](merged, message, ...rest);
  }
}
