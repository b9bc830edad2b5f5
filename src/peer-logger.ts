import type { Logger } from './logger.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** pino's level check; other loggers may not have one. */
type LevelAware = Logger & { isLevelEnabled?: (level: string) => boolean };

/**
 * The logger of one peer: `pool.child({ peer: label })`, created on the
 * first line that is written. A pool of thousands of peers whose logger
 * drops their levels (pino's default `silent`, or `info` for `debug` lines)
 * never creates those children: a pino child is an object, a serialized
 * bindings string and a few microseconds each. A logger without pino's
 * `isLevelEnabled` gets its child on the first call.
 */
export class PeerLogger implements Logger {
  readonly #parent: LevelAware;
  #child: Logger | undefined = undefined;

  constructor(
    parent: Logger,
    /** The peer id with credentials removed. */
    readonly label: string
  ) {
    this.#parent = parent;
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
    return this.#own().child(bindings);
  }

  #own(): Logger {
    return (this.#child ??= this.#parent.child({ peer: this.label }));
  }

  #write(level: Level, fields: unknown, message: string | undefined, rest: unknown[]): void {
    const parent = this.#parent;
    if (this.#child === undefined && typeof parent.isLevelEnabled === 'function' && !parent.isLevelEnabled(level)) return;
    if (message === undefined) this.#own()[level](fields);
    else this.#own()[level](fields, message, ...rest);
  }
}
