/**
 * Every error honeybee throws is a {@link HoneybeeError} with a stable `code`.
 * Messages say what happened, to which peer, in which state, and what to do.
 * Peer ids that reach a message are passed through `redactUrl` first, so a
 * password in a URL never lands in a log or a stack trace.
 */

/** The stable codes, one per error class. */
export const ErrorCodes = {
  POOL_CLOSED: 'HONEYBEE_ERR_POOL_CLOSED',
  PEER_NOT_FOUND: 'HONEYBEE_ERR_PEER_NOT_FOUND',
  PEER_EXISTS: 'HONEYBEE_ERR_PEER_EXISTS',
  CONNECTION_UNAVAILABLE: 'HONEYBEE_ERR_CONNECTION_UNAVAILABLE',
  INVALID_URL: 'HONEYBEE_ERR_INVALID_URL',
  INVALID_OPTION: 'HONEYBEE_ERR_INVALID_OPTION',
  INVALID_POOL_ID: 'HONEYBEE_ERR_INVALID_POOL_ID',
  INVALID_PAYLOAD: 'HONEYBEE_ERR_INVALID_PAYLOAD',
  BACKPRESSURE: 'HONEYBEE_ERR_BACKPRESSURE',
  WRITE_FAILED: 'HONEYBEE_ERR_WRITE_FAILED',
  FACTORY: 'HONEYBEE_ERR_FACTORY',
  DIAL_FAILED: 'HONEYBEE_ERR_DIAL_FAILED',
  READ_LIMIT: 'HONEYBEE_ERR_READ_LIMIT',
  NOT_READY: 'HONEYBEE_ERR_NOT_READY',
  SECOND_READER: 'HONEYBEE_ERR_SECOND_READER',
  UNSUPPORTED: 'HONEYBEE_ERR_UNSUPPORTED',
  UNSUPPORTED_OPTION: 'HONEYBEE_ERR_UNSUPPORTED_OPTION',
  NO_OWNER: 'HONEYBEE_ERR_NO_OWNER',
  OWNER_UNAVAILABLE: 'HONEYBEE_ERR_OWNER_UNAVAILABLE',
  SHARD_MODULE: 'HONEYBEE_ERR_SHARD_MODULE',
  SHARD_PROCESS: 'HONEYBEE_ERR_SHARD_PROCESS'
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every honeybee error. */
export class HoneybeeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The pool was closed; create a new pool to connect again. */
export class PoolClosedError extends HoneybeeError {
  constructor(poolId: string, operation: string) {
    super(ErrorCodes.POOL_CLOSED, `Cannot ${operation}: pool "${poolId}" is closed. Create a new pool.`);
  }
}

/** No peer is registered under this id. */
export class PeerNotFoundError extends HoneybeeError {
  readonly peer: string;
  constructor(peer: string) {
    super(ErrorCodes.PEER_NOT_FOUND, `Peer ${peer} is not in the pool. Call connect() first; pool.peers() lists the registered ids.`);
    this.peer = peer;
  }
}

/** A peer with the same normalized id is already registered. */
export class PeerExistsError extends HoneybeeError {
  readonly peer: string;
  constructor(peer: string) {
    super(ErrorCodes.PEER_EXISTS, `Peer ${peer} is already in the pool. Call remove() first to replace it.`);
    this.peer = peer;
  }
}

/**
 * The peer has no open connection right now (it is dialing, backing off or
 * closing). When the worker knows why, `cause` says it: a
 * {@link DialFailedError} after a failed dial, a {@link ReadLimitError} after
 * the peer sent a message above `readLimit`.
 */
export class ConnectionUnavailableError extends HoneybeeError {
  readonly peer: string;
  readonly state: string;
  constructor(peer: string, state: string, cause?: DialFailedError | ReadLimitError) {
    super(
      ErrorCodes.CONNECTION_UNAVAILABLE,
      `Cannot send to ${peer}: it is ${state === 'backoff' ? 'in backoff' : state}, not connected${unavailableBecause(cause)}. Wait for its "connected" event and retry.`,
      cause === undefined ? undefined : { cause }
    );
    this.peer = peer;
    this.state = state;
  }
}

/** The URL is not a usable ws:// or wss:// address. */
export class InvalidUrlError extends HoneybeeError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super(ErrorCodes.INVALID_URL, `Invalid peer URL ${JSON.stringify(input)}: ${reason}.`);
    this.input = input;
  }
}

/** An option failed validation; the message names the option, the value and the rule. */
export class InvalidOptionError extends HoneybeeError {
  readonly option: string;
  constructor(option: string, rule: string, value: unknown) {
    super(ErrorCodes.INVALID_OPTION, `Expected \`${option}\` to be ${rule}, got ${describeValue(value)}`);
    this.option = option;
  }
}

/**
 * An option asks for something the peer's transport cannot do (`headers` on
 * the standard WebSocket, which cannot set handshake headers, say). Options
 * are refused rather than silently ignored; the message says what to use instead.
 */
export class UnsupportedOptionError extends HoneybeeError {
  readonly option: string;
  /** The transport's `name`. */
  readonly transport: string;
  constructor(option: string, transport: string, why: string, instead: string) {
    super(ErrorCodes.UNSUPPORTED_OPTION, `Option \`${option}\` cannot be honoured by the "${transport}" transport: ${why}. ${instead}`);
    this.option = option;
    this.transport = transport;
  }
}

/** The pool id is empty or not a string. */
export class InvalidPoolIdError extends HoneybeeError {
  constructor(value: unknown) {
    super(ErrorCodes.INVALID_POOL_ID, `Expected \`id\` to be a non-empty string, got ${describeValue(value)}`);
  }
}

/** `send` was given something that is not a string, Uint8Array or ArrayBuffer. */
export class InvalidPayloadError extends HoneybeeError {
  constructor(peer: string, value: unknown) {
    super(ErrorCodes.INVALID_PAYLOAD, `Cannot send to ${peer}: expected a string, Uint8Array or ArrayBuffer, got ${describeValue(value)}`);
  }
}

/** The socket's outgoing buffer is above `sendHighWaterMark`: the peer is not reading fast enough. */
export class BackpressureError extends HoneybeeError {
  readonly peer: string;
  readonly bufferedAmount: number;
  constructor(peer: string, bufferedAmount: number, highWaterMark: number) {
    super(
      ErrorCodes.BACKPRESSURE,
      `Cannot send to ${peer}: ${bufferedAmount} bytes are already waiting (sendHighWaterMark ${highWaterMark}). Retry when the peer catches up.`
    );
    this.peer = peer;
    this.bufferedAmount = bufferedAmount;
  }
}

/** The socket refused the write. */
export class WriteFailedError extends HoneybeeError {
  constructor(peer: string, cause: unknown) {
    super(ErrorCodes.WRITE_FAILED, `Write to ${peer} failed: ${errorText(cause)}`, { cause });
  }
}

/** The worker factory broke its contract (returned a promise, or called the pool re-entrantly). */
export class FactoryError extends HoneybeeError {
  constructor(peer: string, reason: string) {
    super(ErrorCodes.FACTORY, `Worker factory for ${peer} ${reason}. A factory must synchronously return a Worker and must not call the pool.`);
  }
}

/** One dial attempt failed (refused, handshake timeout, HTTP error, TLS error…): the `cause` of a send refused after it. */
export class DialFailedError extends HoneybeeError {
  /** What went wrong, as the `dial_failed` event's `error` says it. */
  readonly reason: string;
  constructor(peer: string, reason: string, cause?: unknown) {
    super(ErrorCodes.DIAL_FAILED, `Dial to ${peer} failed: ${reason}`, { cause });
    this.reason = reason;
  }
}

/** The peer sent a message larger than `readLimit`: the `cause` of a send refused after that connection ended. */
export class ReadLimitError extends HoneybeeError {
  readonly readLimit: number;
  constructor(peer: string, readLimit: number) {
    super(ErrorCodes.READ_LIMIT, `Peer ${peer} sent a message above readLimit (${readLimit} bytes); the connection was closed with 1009.`);
    this.readLimit = readLimit;
  }
}

/** Why {@link NotReadyError} gave up waiting. */
export type NotReadyReason = 'retired' | 'removed' | 'closed' | 'timeout' | 'aborted';

const NOT_READY_TEXT: Record<NotReadyReason, string> = {
  retired: 'the peer retired (its retry policy gave up)',
  removed: 'the peer was removed',
  closed: 'the pool closed',
  timeout: 'the timeout ran out',
  aborted: 'the signal was aborted'
};

/**
 * `pool.ready(id)` gave up before the peer connected; `reason` says why. An
 * abort carries the signal's reason as `cause`.
 */
export class NotReadyError extends HoneybeeError {
  readonly peer: string;
  readonly reason: NotReadyReason;
  constructor(peer: string, reason: NotReadyReason, detail = '', cause?: unknown) {
    super(ErrorCodes.NOT_READY, `Peer ${peer} did not connect: ${NOT_READY_TEXT[reason]}${detail}.`, cause === undefined ? undefined : { cause });
    this.peer = peer;
    this.reason = reason;
  }
}

/** A second loop tried to read a single-consumer stream (the inbox or the events) while another still reads it. */
export class SecondReaderError extends HoneybeeError {
  constructor(stream: string) {
    super(
      ErrorCodes.SECOND_READER,
      `Cannot read ${stream} twice at once: it has one consumer, and another iterator is still open. ` +
        'Read it in one loop and fan out from there, or end the first loop (break/return) before starting another.'
    );
  }
}

/** The peer's worker cannot do what was asked (a custom Worker without the optional method). */
export class UnsupportedError extends HoneybeeError {
  constructor(peer: string, operation: string) {
    super(ErrorCodes.UNSUPPORTED, `Cannot ${operation} ${peer}: its worker has no ${operation}() method.`);
  }
}

/** A cluster send found no shard that owns the peer (not registered, or between owners). */
export class NoOwnerError extends HoneybeeError {
  readonly peer: string;
  constructor(peer: string, detail: string) {
    super(ErrorCodes.NO_OWNER, `Cannot send to ${peer}: no shard owns it (${detail}). Retry once a shard has claimed it.`);
    this.peer = peer;
  }
}

/** The shard that owns the peer did not answer a routed send (it died, or the engine is unreachable). */
export class OwnerUnavailableError extends HoneybeeError {
  readonly peer: string;
  readonly shard: string;
  constructor(peer: string, shard: string, cause: unknown) {
    super(ErrorCodes.OWNER_UNAVAILABLE, `Cannot send to ${peer}: its owner shard ${shard} did not answer. Retry after its lease runs out.`, { cause });
    this.peer = peer;
    this.shard = shard;
  }
}

/** A shard module could not be loaded, or exports something a shard cannot use. */
export class ShardModuleError extends HoneybeeError {
  /** The module's URL (or what was given instead). */
  readonly module: string;
  /** What is wrong with it, in a few words. */
  readonly reason: string;
  constructor(module: string, reason: string, cause?: unknown) {
    super(ErrorCodes.SHARD_MODULE, `Shard module ${module} cannot be used: ${reason}.`, cause === undefined ? undefined : { cause });
    this.module = module;
    this.reason = reason;
  }
}

/** What happened to a batch whose `process` failed. */
export type FailedBatchFate = 'dropped' | 'passed';

/**
 * A shard module's `process` threw, rejected, returned something that is not
 * an array, or returned values that cannot cross to the consumer. The shard
 * keeps running; `fate` says what became of the batch.
 */
export class ShardProcessError extends HoneybeeError {
  readonly shard: string;
  /** How many inbox messages the batch held. */
  readonly messages: number;
  readonly fate: FailedBatchFate;
  /** What went wrong, in a few words. */
  readonly reason: string;
  constructor(shard: string, messages: number, fate: FailedBatchFate, reason: string, cause?: unknown) {
    super(
      ErrorCodes.SHARD_PROCESS,
      `Shard ${shard}: process() failed on a batch of ${messages} message(s): ${reason}. ` +
        (fate === 'dropped' ? 'The batch was dropped (counted in processDropped).' : 'The batch was passed on unprocessed.'),
      cause === undefined ? undefined : { cause }
    );
    this.shard = shard;
    this.messages = messages;
    this.fate = fate;
    this.reason = reason;
  }
}

// The short "why" a refused send gives; the whole story is in its `cause`.
function unavailableBecause(cause: DialFailedError | ReadLimitError | undefined): string {
  if (cause instanceof DialFailedError) return ` (its last dial failed: ${cause.reason})`;
  if (cause instanceof ReadLimitError) return ` (on its last connection the peer sent a message above readLimit, ${cause.readLimit} bytes)`;
  return '';
}

/** A short, safe description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'symbol') return 'a symbol';
  const name = (value as object).constructor?.name;
  if (!name || name === 'Object') return 'an object';
  // "an AbortSignal", "an Error"; "a Uint8Array" (U says "you").
  return `${/^[aeio]/i.test(name) ? 'an' : 'a'} ${name}`;
}

/** The message of an unknown thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
