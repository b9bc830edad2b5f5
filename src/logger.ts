/**
 * The logger shape honeybee writes to: pino's methods, so a pino logger fits
 * as is, and so does any object with the same five methods (a console
 * wrapper, a test recorder). The core never imports pino: the Node entry's
 * default is a silent pino logger, the web entry's {@link consoleLogger}.
 */
export interface Logger {
  /** Logs `message` (or `fields`, then `message`). */
  debug(fields: unknown, message?: string, ...rest: unknown[]): void;
  info(fields: unknown, message?: string, ...rest: unknown[]): void;
  warn(fields: unknown, message?: string, ...rest: unknown[]): void;
  error(fields: unknown, message?: string, ...rest: unknown[]): void;
  /** A logger that adds `bindings` to every line (pino's `child`). */
  child(bindings: Record<string, unknown>): Logger;
}

/** The levels {@link consoleLogger} can stop at, quietest last. */
export type ConsoleLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: readonly ConsoleLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

function noop(): void {}

/**
 * A {@link Logger} over `console`, for runtimes without pino (the web
 * entry's default, at `'warn'`: failed dials and the browser's socket cap
 * reach the developer console, routine lifecycle lines do not). Each line is
 * the message, then the bindings and fields as one object.
 *
 * @example
 * ```ts
 * const pool = createPool({ logger: consoleLogger('info') });
 * ```
 */
export function consoleLogger(level: ConsoleLevel = 'warn', bindings: Record<string, unknown> = {}): Logger {
  const floor = LEVELS.indexOf(level);
  const method = (name: Exclude<ConsoleLevel, 'silent'>) => {
    if (LEVELS.indexOf(name) < floor) return noop;
    return (fields: unknown, message?: string): void => {
      if (typeof fields === 'string') console[name](fields, bindings);
      else console[name](message ?? '', { ...bindings, ...(fields as object) });
    };
  };
  return {
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: (more) => consoleLogger(level, { ...bindings, ...more })
  };
}

/** A {@link Logger} that writes nothing. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger
};
