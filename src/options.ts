import type { AnyActorRef } from 'xstate';
import { InvalidOptionError, InvalidPoolIdError } from './errors.ts';
import type { Logger } from './logger.ts';
import { redactHeaders } from './normalize-url.ts';
import type { TlsOptions, Transport } from './transport.ts';
import { refuseUnsupported, transportDefaults, type TransportFit } from './transport-fit.ts';
import type { ConnectionOptions, InboxOverflow, ReadyOptions, ResolvedPoolOptions, RetryOptions, WorkerFactory } from './types.ts';
import { VERSION } from './version.ts';
import { factoryTraits } from './worker-from-machine.ts';

/** The shape of {@link DEFAULTS}. */
export interface Defaults {
  /** Pool id, used in log bindings and error messages. @default 'honeybee' */
  readonly id: string;
  /** Inbox capacity in messages. @default 256 */
  readonly inboxSize: number;
  /** What a full inbox does with the next message. @default 'block' ('drop-oldest' with a transport that cannot pause reading) */
  readonly inboxOverflow: InboxOverflow;
  /** Events stream capacity. @default 1024 */
  readonly eventsSize: number;
  /** Wait before redialing after a connection that stayed up ≥ `minUptime`, ms. @default 2000 */
  readonly reconnectDelay: number;
  /** Uptime after which a connection counts as healthy and the retry count resets, ms. @default 5000 */
  readonly minUptime: number;
  /** Silence after which a connection is declared dead, ms; 0 = off. @default 60000 */
  readonly keepaliveTimeout: number;
  /** Interval between pings (probes, with the probe worker), ms; 0 = off. @default 20000 (0 for a ping-frame worker on a transport without ping frames) */
  readonly pingInterval: number;
  /** Limit for the opening handshake, ms. @default 10000 */
  readonly handshakeTimeout: number;
  /** Largest accepted message in bytes; 0 = unlimited. @default 524288 */
  readonly readLimit: number;
  /** Outgoing buffer size in bytes above which `send` throws. @default 16777216 */
  readonly sendHighWaterMark: number;
  /** Grace period after a local close frame before the socket is terminated, ms. @default 1000 */
  readonly closeTimeout: number;
  /** Headers of the opening handshake. @default { 'User-Agent': 'honeybee/<version>' } ({} with a transport that cannot set headers) */
  readonly headers: Readonly<Record<string, string>>;
  /** WebSocket subprotocols offered. @default [] */
  readonly protocols: readonly string[];
  /** Retry policy for failed dials and flaps. @default { maxRetries: 0, maxFlaps: 0, initialDelay: 1000, maxDelay: 60000, jitter: 0.2 } */
  readonly retry: Readonly<RetryOptions>;
}

/**
 * Every default option value, in one deeply frozen constant. Options without
 * an entry default to: `logger` silent pino (Node) or `consoleLogger('warn')`
 * (web), `tls` Node's defaults, `workerFactory` the built-in worker (the
 * probe worker with a transport without ping frames), `transport` `wsTransport`
 * (Node) or `webSocketTransport()` (web), `inspect` none. A transport that
 * cannot do something changes the default that needs it (see each entry).
 */
export const DEFAULTS: Defaults = deepFreeze({
  id: 'honeybee',
  inboxSize: 256,
  inboxOverflow: 'block',
  eventsSize: 1024,
  reconnectDelay: 2000,
  minUptime: 5000,
  keepaliveTimeout: 60_000,
  pingInterval: 20_000,
  handshakeTimeout: 10_000,
  readLimit: 524_288,
  sendHighWaterMark: 16 * 1024 * 1024,
  closeTimeout: 1000,
  headers: { 'User-Agent': `honeybee/${VERSION}` },
  protocols: [],
  retry: { maxRetries: 0, maxFlaps: 0, initialDelay: 1000, maxDelay: 60_000, jitter: 0.2 }
} satisfies Defaults);

// setTimeout fires immediately (with a warning) for anything larger.
const MAX_DELAY = 2_147_483_647;
const INBOX_OVERFLOWS: readonly InboxOverflow[] = ['block', 'drop-oldest', 'drop-newest'];
// RFC 9110 `token`: valid header names and subprotocol names.
const TOKEN = /^[!#$%&'*+\-.^_`|~\dA-Za-z]+$/;
// What Node's http client refuses in a header value (it would throw on every dial).
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const LOGGER_METHODS = ['info', 'warn', 'error', 'debug', 'child'] as const;

const CONNECT_KEYS = [
  'reconnectDelay',
  'minUptime',
  'keepaliveTimeout',
  'pingInterval',
  'handshakeTimeout',
  'readLimit',
  'sendHighWaterMark',
  'closeTimeout',
  'headers',
  'protocols',
  'tls',
  'retry',
  'transport'
] as const;
const POOL_KEYS = ['id', 'logger', 'inboxSize', 'inboxOverflow', 'eventsSize', 'workerFactory', 'inspect', 'signal', ...CONNECT_KEYS];
const READY_KEYS = ['signal', 'timeout'] as const;
const RETRY_KEYS = ['maxRetries', 'maxFlaps', 'initialDelay', 'maxDelay', 'jitter'] as const;
const TLS_KEYS = ['ca', 'cert', 'key', 'rejectUnauthorized'] as const;

type Input = Record<string, unknown>;

/** What an entry point (Node or web) supplies for the options a user leaves out. */
export interface Runtime {
  /** The transport when the options name none. */
  transport(): Transport;
  /** The logger when the options name none. */
  logger(): Logger;
  /**
   * Installs the pool's scheduler index on its actor system (`indexScheduler`
   * of `src/xstate-internals.ts`), where a pool may hold enough peers for
   * XState's quadratic close to matter; absent, the pool runs on XState's own
   * scheduler (a browser page holds a few hundred sockets at most).
   */
  indexScheduler?(system: AnyActorRef['system'], logger: Logger): boolean;
}

/**
 * Validates the options given to `createPool` and fills in {@link DEFAULTS},
 * adjusted to what the transport can do.
 *
 * @param input - what the user passed (`undefined` for all defaults).
 * @param runtime - the entry's default transport and logger.
 * @throws InvalidPoolIdError when `id` is not a non-empty string.
 * @throws InvalidOptionError naming the first option that breaks its rule.
 * @throws UnsupportedOptionError naming an option the transport cannot honour.
 */
export function resolvePoolOptions(input: unknown, runtime: Runtime): ResolvedPoolOptions {
  const options = plainOptions(input, 'options');
  rejectUnknownKeys(options, POOL_KEYS, '', 'a known option');
  const workerFactory = options.workerFactory === undefined ? undefined : fn<WorkerFactory>('workerFactory', options.workerFactory);
  const transport = factoryTraits(workerFactory)?.transport ?? optional(options, 'transport', undefined, transportOption) ?? runtime.transport();
  const fit: TransportFit = { transport, workerFactory };
  const connection = applyConnectOptions(defaultConnection(fit), options);
  const overflow = optional(options, 'inboxOverflow', transport.canPause ? DEFAULTS.inboxOverflow : 'drop-oldest', inboxOverflow);
  refuseUnsupported(connection, fit, options, overflow);
  return {
    id: poolId(options.id),
    logger: options.logger === undefined ? runtime.logger() : loggerLike(options.logger),
    inboxSize: optional(options, 'inboxSize', DEFAULTS.inboxSize, positiveInteger),
    inboxOverflow: overflow,
    eventsSize: optional(options, 'eventsSize', DEFAULTS.eventsSize, positiveInteger),
    workerFactory,
    inspect: inspector(options.inspect),
    signal: optional(options, 'signal', undefined, abortSignal),
    connection,
    connectInput: pickConnectKeys(options)
  };
}

/**
 * Validates the per-peer options given to `connect(url, options)` and returns
 * `base` with them applied. `headers` and `retry` merge over the base values;
 * every other option replaces its base value. Given the `pool`, a per-peer
 * `transport` gets its own defaults under the pool's explicit options, and
 * every option is checked against the peer's transport.
 *
 * @throws InvalidOptionError naming the first option that breaks its rule,
 * including options that can only be set for the whole pool.
 * @throws UnsupportedOptionError naming an option the peer's transport cannot honour.
 */
export function resolveConnectOptions(base: ConnectionOptions, input: unknown, pool?: ResolvedPoolOptions): ConnectionOptions {
  const options = plainOptions(input, 'options');
  rejectUnknownKeys(options, CONNECT_KEYS, '', 'a per-peer option');
  if (pool === undefined) return applyConnectOptions(base, options);
  const transport = factoryTraits(pool.workerFactory)?.transport ?? optional(options, 'transport', base.transport, transportOption);
  const fit: TransportFit = { transport, workerFactory: pool.workerFactory };
  if (transport === base.transport) {
    const connection = applyConnectOptions(base, options);
    refuseUnsupported(connection, fit, options, undefined);
    return connection;
  }
  // Another transport: its own defaults, then the pool's options, then this peer's.
  const connection = applyConnectOptions(applyConnectOptions(defaultConnection(fit), pool.connectInput), options);
  refuseUnsupported(connection, fit, { ...pool.connectInput, ...options }, pool.inboxOverflow);
  return connection;
}

function defaultConnection(fit: TransportFit): ConnectionOptions {
  const { id: _id, inboxSize: _i, inboxOverflow: _o, eventsSize: _e, headers: _h, protocols, retry, ...timings } = DEFAULTS;
  const { headers, pingInterval } = transportDefaults(fit, DEFAULTS);
  return { ...timings, pingInterval, headers: { ...headers }, protocols: [...protocols], tls: undefined, retry: { ...retry }, transport: fit.transport };
}

function pickConnectKeys(options: Input): Input {
  const picked: Input = {};
  for (const key of CONNECT_KEYS) if (options[key] !== undefined && key !== 'transport') picked[key] = options[key];
  return picked;
}

function applyConnectOptions(base: ConnectionOptions, options: Input): ConnectionOptions {
  const delay = (name: (typeof CONNECT_KEYS)[number] & keyof ConnectionOptions, positive: boolean): number =>
    optional(options, name, base[name] as number, positive ? positiveDelay : nonNegativeDelay);
  return {
    reconnectDelay: delay('reconnectDelay', false),
    minUptime: delay('minUptime', false),
    keepaliveTimeout: delay('keepaliveTimeout', false),
    pingInterval: delay('pingInterval', false),
    handshakeTimeout: delay('handshakeTimeout', true),
    readLimit: optional(options, 'readLimit', base.readLimit, nonNegativeInteger),
    sendHighWaterMark: optional(options, 'sendHighWaterMark', base.sendHighWaterMark, positiveInteger),
    closeTimeout: delay('closeTimeout', true),
    headers: options.headers === undefined ? { ...base.headers } : mergeHeaders(base.headers, options.headers),
    protocols: options.protocols === undefined ? [...base.protocols] : protocolList(options.protocols),
    tls: options.tls === undefined ? base.tls : tlsOptions(options.tls),
    retry: options.retry === undefined ? { ...base.retry } : retryPolicy(base.retry, options.retry),
    transport: optional(options, 'transport', base.transport, transportOption)
  };
}

function isPlainObject(value: unknown): value is Input {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function plainOptions(input: unknown, name: string): Input {
  if (input === undefined) return {};
  if (!isPlainObject(input)) throw new InvalidOptionError(name, 'a plain object', input);
  return input;
}

function rejectUnknownKeys(input: Input, known: readonly string[], prefix: string, rule: string): void {
  for (const key of Object.keys(input)) {
    if (key === 'dialer' && prefix === '') {
      throw new InvalidOptionError('dialer', 'gone since 0.2: pass a `transport` instead (wsTransport, webSocketTransport() or your own Transport)', input[key]);
    }
    if (!known.includes(key)) {
      throw new InvalidOptionError(`${prefix}${key}`, `${rule} (one of: ${known.join(', ')})`, input[key]);
    }
  }
}

/** Reads `input[name]`, or `fallback` when it is absent or `undefined`. */
function optional<T>(input: Input, name: string, fallback: T, check: (name: string, value: unknown) => T): T {
  const value = input[name];
  return value === undefined ? fallback : check(name, value);
}

function poolId(value: unknown): string {
  if (value === undefined) return DEFAULTS.id;
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidPoolIdError(value);
  return value;
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  throw new InvalidOptionError(name, 'a positive integer', value);
}

function nonNegativeInteger(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new InvalidOptionError(name, 'an integer ≥ 0', value);
}

function nonNegativeDelay(name: string, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && value <= MAX_DELAY) return value;
  throw new InvalidOptionError(name, `a number of milliseconds from 0 to ${MAX_DELAY} (the setTimeout limit)`, value);
}

function positiveDelay(name: string, value: unknown): number {
  if (typeof value === 'number' && value > 0 && value <= MAX_DELAY) return value;
  throw new InvalidOptionError(name, `a number of milliseconds above 0 and up to ${MAX_DELAY} (the setTimeout limit)`, value);
}

function inboxOverflow(name: string, value: unknown): InboxOverflow {
  if (INBOX_OVERFLOWS.includes(value as InboxOverflow)) return value as InboxOverflow;
  throw new InvalidOptionError(name, `one of ${INBOX_OVERFLOWS.map((v) => `'${v}'`).join(', ')}`, value);
}

function fn<T>(name: string, value: unknown): T {
  if (typeof value === 'function') return value as T;
  throw new InvalidOptionError(name, 'a function', value);
}

const TRANSPORT_FLAGS = ['canPing', 'canPause', 'canSetHeaders', 'canSetTls'] as const;

function transportOption(name: string, value: unknown): Transport {
  const candidate = value as Record<string, unknown> | null;
  if (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    typeof candidate.open === 'function' &&
    TRANSPORT_FLAGS.every((flag) => typeof candidate[flag] === 'boolean')
  ) {
    return value as Transport;
  }
  throw new InvalidOptionError(name, `a Transport (wsTransport, webSocketTransport(), or an object with name, open and ${TRANSPORT_FLAGS.join(', ')})`, value);
}

function loggerLike(value: unknown): ResolvedPoolOptions['logger'] {
  const obj = value as Record<string, unknown> | null;
  if (typeof obj === 'object' && obj !== null && LOGGER_METHODS.every((m) => typeof obj[m] === 'function')) {
    return value as ResolvedPoolOptions['logger'];
  }
  throw new InvalidOptionError('logger', `a pino logger (an object with ${LOGGER_METHODS.join(', ')} methods)`, value);
}

function abortSignal(name: string, value: unknown): AbortSignal {
  if (value instanceof AbortSignal) return value;
  throw new InvalidOptionError(name, 'an AbortSignal', value);
}

/**
 * Validates the options of `pool.ready(id, options)`.
 * @throws InvalidOptionError naming the option that breaks its rule.
 */
export function resolveReadyOptions(input: unknown): ReadyOptions {
  const options = plainOptions(input, 'options');
  rejectUnknownKeys(options, READY_KEYS, '', 'a ready() option');
  const ready: ReadyOptions = {};
  if (options.signal !== undefined) ready.signal = abortSignal('signal', options.signal);
  if (options.timeout !== undefined) ready.timeout = positiveDelay('timeout', options.timeout);
  return ready;
}

function inspector(value: unknown): ResolvedPoolOptions['inspect'] {
  if (value === undefined || typeof value === 'function') return value as ResolvedPoolOptions['inspect'];
  if (typeof value === 'object' && value !== null && typeof (value as { next?: unknown }).next === 'function') {
    return value as ResolvedPoolOptions['inspect'];
  }
  throw new InvalidOptionError('inspect', 'an XState inspection observer (a function or an object with a next method)', value);
}

function mergeHeaders(base: Readonly<Record<string, string>>, value: unknown): Record<string, string> {
  if (!isPlainObject(value)) throw new InvalidOptionError('headers', 'a plain object of header names to strings', value);
  const merged: Record<string, string> = { ...base };
  for (const [name, headerValue] of Object.entries(value)) {
    if (!TOKEN.test(name)) throw new InvalidOptionError(`headers.${name}`, 'a valid HTTP header name', name);
    if (typeof headerValue !== 'string' || INVALID_HEADER_VALUE.test(headerValue)) {
      // Never echo the value of an Authorization or Cookie header into an error message.
      const shown = typeof headerValue === 'string' ? redactHeaders({ [name]: headerValue })[name] : headerValue;
      throw new InvalidOptionError(`headers.${name}`, 'a string of tabs and printable Latin-1 characters (no CR, LF or NUL)', shown);
    }
    // A user's `user-agent` must replace the default `User-Agent`, not join it.
    for (const existing of Object.keys(merged)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete merged[existing];
    }
    merged[name] = headerValue;
  }
  return merged;
}

function protocolList(value: unknown): string[] {
  if (typeof value === 'string') return [protocolName('protocols', value)];
  if (!Array.isArray(value)) throw new InvalidOptionError('protocols', 'a subprotocol name or an array of them', value);
  const names = value.map((item: unknown, index) => protocolName(`protocols[${index}]`, item));
  // `ws` throws at dial time on a repeated subprotocol; catch it here instead.
  const repeated = names.findIndex((name, index) => names.indexOf(name) !== index);
  if (repeated !== -1) throw new InvalidOptionError(`protocols[${repeated}]`, 'a subprotocol not listed before', names[repeated]);
  return names;
}

function protocolName(name: string, value: unknown): string {
  if (typeof value === 'string' && TOKEN.test(value)) return value;
  throw new InvalidOptionError(name, 'a non-empty subprotocol name without spaces, commas or other separators', value);
}

function tlsOptions(value: unknown): TlsOptions {
  if (!isPlainObject(value)) throw new InvalidOptionError('tls', 'a plain object', value);
  rejectUnknownKeys(value, TLS_KEYS, 'tls.', 'a known TLS option');
  const tls: TlsOptions = {};
  const { ca, cert, key, rejectUnauthorized } = value;
  if (ca !== undefined) tls.ca = Array.isArray(ca) ? ca.map((item, i) => pem(`tls.ca[${i}]`, item)) : pem('tls.ca', ca);
  if (cert !== undefined) tls.cert = pem('tls.cert', cert);
  if (key !== undefined) tls.key = pem('tls.key', key);
  if (rejectUnauthorized !== undefined) {
    if (typeof rejectUnauthorized !== 'boolean') {
      throw new InvalidOptionError('tls.rejectUnauthorized', 'a boolean', rejectUnauthorized);
    }
    tls.rejectUnauthorized = rejectUnauthorized;
  }
  return tls;
}

function pem(name: string, value: unknown): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  throw new InvalidOptionError(name, 'a string or a Uint8Array (a Buffer is one)', value);
}

function retryPolicy(base: RetryOptions, value: unknown): RetryOptions {
  if (!isPlainObject(value)) throw new InvalidOptionError('retry', 'a plain object', value);
  rejectUnknownKeys(value, RETRY_KEYS, 'retry.', 'a known retry option');
  const retry: RetryOptions = {
    maxRetries: optional(value, 'maxRetries', base.maxRetries, (_, v) => nonNegativeInteger('retry.maxRetries', v)),
    maxFlaps: optional(value, 'maxFlaps', base.maxFlaps, (_, v) => nonNegativeInteger('retry.maxFlaps', v)),
    initialDelay: optional(value, 'initialDelay', base.initialDelay, (_, v) => positiveDelay('retry.initialDelay', v)),
    maxDelay: optional(value, 'maxDelay', base.maxDelay, (_, v) => positiveDelay('retry.maxDelay', v)),
    jitter: optional(value, 'jitter', base.jitter, (_, v) => fraction('retry.jitter', v))
  };
  if (retry.initialDelay > retry.maxDelay) {
    // Blame the option the user actually set, so the message points at their typo.
    if (value.initialDelay === undefined) {
      throw new InvalidOptionError('retry.maxDelay', `at least \`retry.initialDelay\` (${retry.initialDelay})`, retry.maxDelay);
    }
    throw new InvalidOptionError('retry.initialDelay', `at most \`retry.maxDelay\` (${retry.maxDelay})`, retry.initialDelay);
  }
  return retry;
}

function fraction(name: string, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && value <= 1) return value;
  throw new InvalidOptionError(name, 'a number from 0 to 1', value);
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
