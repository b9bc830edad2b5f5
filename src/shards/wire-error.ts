/**
 * Errors on their way from a shard thread to the main thread. A structured
 * clone keeps an error's message but not its class or its own fields, so a
 * refused send in a thread travels as plain data and becomes, on the main
 * thread, the same class with the same `code`, message and fields (`peer`,
 * `state`, `bufferedAmount`, …) that `Pool.send` throws.
 */
import * as errors from '../errors.ts';
import { ErrorCodes, HoneybeeError } from '../errors.ts';

/** An error as it crosses a thread boundary. */
export interface WireError {
  readonly code: string;
  readonly name: string;
  readonly message: string;
  /** The error's own primitive fields (`peer`, `state`, …). */
  readonly fields: Record<string, string | number | boolean>;
  readonly cause?: WireError;
}

/** Every error class by its code. */
const CLASSES = new Map<string, { prototype: HoneybeeError }>();
for (const value of Object.values(errors)) {
  if (typeof value === 'function' && value.prototype instanceof HoneybeeError) {
    // Each class sets one code; a throwaway instance would need its constructor's arguments, so read the name instead.
    CLASSES.set(value.name, value as unknown as { prototype: HoneybeeError });
  }
}

/** Describes `error` for a post to another thread. */
export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { code: 'ERR', name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'code' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) fields[key] = value;
  }
  const code = error instanceof HoneybeeError ? error.code : 'ERR';
  const cause = error.cause === undefined ? undefined : toWire(error.cause);
  return { code, name: error.name, message: error.message, fields, ...(cause === undefined ? {} : { cause }) };
}

/** Rebuilds a {@link WireError} as its class (a plain `Error` for anything that is not a honeybee error). */
export function fromWire(wire: WireError): Error {
  const known = CLASSES.get(wire.name);
  const isCode = (Object.values(ErrorCodes) as string[]).includes(wire.code);
  const error: Error = known !== undefined && isCode ? (Object.create(known.prototype) as Error) : new Error(wire.message);
  Object.defineProperty(error, 'message', { value: wire.message, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true });
  if (isCode) Object.defineProperty(error, 'code', { value: wire.code, enumerable: true });
  Object.assign(error, wire.fields);
  if (wire.cause !== undefined) Object.defineProperty(error, 'cause', { value: fromWire(wire.cause), writable: true, configurable: true });
  // The stack of the main thread's caller would mislead; say where it came from.
  Object.defineProperty(error, 'stack', { value: `${wire.name}: ${wire.message}\n    at (a shard thread)`, writable: true, configurable: true });
  return error;
}
