import { describe, it, expect } from 'vitest';
import { pino } from 'pino';
import { ErrorCodes, InvalidOptionError, InvalidPoolIdError, describeValue } from '../src/errors.ts';
import { DEFAULTS, resolveConnectOptions, resolvePoolOptions } from '../src/options.ts';
import type { Runtime } from '../src/options.ts';
import type { Transport } from '../src/transport.ts';
import { thrown } from './helpers/thrown.ts';

/** A transport that can do everything, so every default applies as DEFAULTS has it. */
function fakeTransport(name: string): Transport {
  return {
    name,
    canPing: true,
    canPause: true,
    canSetHeaders: true,
    canSetTls: true,
    open: () => {
      throw new Error('not dialed in these tests');
    }
  };
}
const transport = fakeTransport('test');
const runtime: Runtime = { transport: () => transport, logger: () => pino({ level: 'silent' }) };

function expectInvalid(fn: () => unknown, option: string, value: unknown): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(InvalidOptionError);
  expect((error as InvalidOptionError).code).toBe(ErrorCodes.INVALID_OPTION);
  expect((error as InvalidOptionError).option).toBe(option);
  expect((error as Error).message).toContain(`Expected \`${option}\` to be`);
  expect((error as Error).message).toContain(`got ${describeValue(value)}`);
}

/** Builds `{ a: { b: value } }` from the dotted name `a.b`. */
function nested(option: string, value: unknown): Record<string, unknown> {
  const [head, tail] = option.split(/\.(.*)/s) as [string, string | undefined];
  return { [head]: tail === undefined ? value : { [tail]: value } };
}

const TOO_LONG = 2_147_483_648;
const nonNegativeDelay = [-1, NaN, Infinity, TOO_LONG, '5', null, true, [], {}];
const positiveDelay = [0, -1, NaN, Infinity, TOO_LONG, '5', null, false];
const positiveInt = [0, -1, 1.5, NaN, Infinity, '256', null, {}];

// [option, rejected values, accepted value]
const connectTable: Array<[string, unknown[], unknown]> = [
  ['reconnectDelay', nonNegativeDelay, 0],
  ['minUptime', nonNegativeDelay, 0],
  ['keepaliveTimeout', nonNegativeDelay, 0],
  ['pingInterval', nonNegativeDelay, 0],
  ['handshakeTimeout', positiveDelay, 1],
  ['closeTimeout', positiveDelay, 2_147_483_647],
  ['readLimit', [-1, 1.5, NaN, Infinity, '1024', null], 0],
  ['sendHighWaterMark', positiveInt, 1],
  ['headers', ['x', 1, null, [], new Map()], {}],
  ['protocols', [1, null, {}, '', 'a b', 'a,b', 'a"b'], 'nostr'],
  ['tls', ['x', 1, null, [], true], {}],
  ['tls.ca', [1, true, {}], 'PEM'],
  ['tls.cert', [1, [], {}], Buffer.from('PEM')],
  ['tls.key', [1, [], {}], 'PEM'],
  ['tls.rejectUnauthorized', ['false', 0, null], false],
  ['retry', ['x', 1, null, []], {}],
  ['retry.maxRetries', [-1, 1.5, NaN, Infinity, '3', null], 0],
  ['retry.initialDelay', [0, -1, NaN, Infinity, TOO_LONG, 60_001, '1', null], 60_000],
  ['retry.maxDelay', [0, -1, NaN, Infinity, TOO_LONG, 400, '1', null], 1000],
  ['retry.jitter', [-0.1, 1.1, NaN, Infinity, '0.2', null], 1],
  ['transport', ['x', 1, null, {}, { name: 'x', open: () => ({}) }], fakeTransport('other')]
];

const poolOnlyTable: Array<[string, unknown[], unknown]> = [
  ['inboxSize', positiveInt, 1],
  ['eventsSize', positiveInt, 1],
  ['inboxOverflow', ['drop', '', 'BLOCK', 1, null], 'drop-newest'],
  ['logger', [console, {}, 'info', 1, null], pino({ level: 'silent' })],
  ['workerFactory', ['x', 1, null, {}], () => ({})],
  ['inspect', ['x', 1, null, {}, { next: 1 }], { next: () => undefined }],
  ['options', ['x', 1, null, [], new Date()], undefined]
];

const poolTable = [...poolOnlyTable, ...connectTable];
const rejected = (table: Array<[string, unknown[], unknown]>) =>
  table.flatMap(([option, values]) => values.map((value): [string, string, unknown] => [option, describeValue(value), value]));
const build = (option: string, value: unknown): unknown => (option === 'options' ? value : nested(option, value));

describe('DEFAULTS', () => {
  it('holds every documented default', () => {
    expect(DEFAULTS).toEqual({
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
      sendHighWaterMark: 16_777_216,
      closeTimeout: 1000,
      headers: { 'User-Agent': 'honeybee/0.1.0' },
      protocols: [],
      retry: { maxRetries: 0, maxFlaps: 0, initialDelay: 1000, maxDelay: 60_000, jitter: 0.2 }
    });
  });

  it('is deeply frozen', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.headers)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.protocols)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.retry)).toBe(true);
  });
});

describe('resolvePoolOptions', () => {
  it('resolves no options to the defaults', () => {
    const resolved = resolvePoolOptions(undefined, runtime);
    const { id, inboxSize, inboxOverflow, eventsSize, headers, protocols, retry, ...timings } = DEFAULTS;
    expect(resolved).toMatchObject({ id, inboxSize, inboxOverflow, eventsSize, workerFactory: undefined, inspect: undefined });
    expect(resolved.connection).toEqual({ ...timings, headers, protocols, retry, tls: undefined, transport });
    expect((resolved.logger as pino.Logger).level).toBe('silent');
  });

  it('resolves an empty object and undefined values to the defaults', () => {
    const resolved = resolvePoolOptions({ inboxSize: undefined, retry: undefined, tls: undefined }, runtime);
    expect(resolved).toEqual({ ...resolvePoolOptions({}, runtime), logger: resolved.logger });
  });

  it('returns copies that can be changed without touching DEFAULTS', () => {
    const { connection } = resolvePoolOptions({}, runtime);
    connection.headers['X-Extra'] = '1';
    connection.protocols.push('p');
    connection.retry.maxRetries = 5;
    expect(DEFAULTS.headers).toEqual({ 'User-Agent': 'honeybee/0.1.0' });
    expect(DEFAULTS.protocols).toEqual([]);
    expect(DEFAULTS.retry.maxRetries).toBe(0);
  });

  it.each(poolTable)('accepts a valid `%s`', (option, _rejected, good) => {
    expect(() => resolvePoolOptions(build(option, good), runtime)).not.toThrow();
  });

  it.each(rejected(poolTable))('rejects `%s` = %s, naming the option and the value', (option, _shown, value) => {
    expectInvalid(() => resolvePoolOptions(build(option, value), runtime), option, value);
  });

  it.each([[''], ['   '], [null], [0], [{}], [['pool']]])('rejects the id %o with InvalidPoolIdError', (id) => {
    const error = thrown(() => resolvePoolOptions({ id }, runtime));
    expect(error).toBeInstanceOf(InvalidPoolIdError);
    expect((error as InvalidPoolIdError).code).toBe(ErrorCodes.INVALID_POOL_ID);
    expect((error as Error).message).toContain('`id`');
  });

  it('rejects an unknown option, listing the known ones', () => {
    expectInvalid(() => resolvePoolOptions({ inboxsize: 3 }, runtime), 'inboxsize', 3);
    expect((thrown(() => resolvePoolOptions({ inboxsize: 3 }, runtime)) as Error).message).toContain('inboxSize');
  });

  it.each([
    ['tls', { ca: 'x', servername: 'h' }, 'tls.servername', 'h'],
    ['retry', { maxRetries: 1, factor: 2 }, 'retry.factor', 2]
  ])('rejects an unknown key inside `%s`', (option, value, name, shown) => {
    expectInvalid(() => resolvePoolOptions({ [option]: value }, runtime), name, shown);
  });

  it('rejects header values that are not strings or that contain a line break', () => {
    expectInvalid(() => resolvePoolOptions({ headers: { 'X-Foo': 1 } }, runtime), 'headers.X-Foo', 1);
    expectInvalid(() => resolvePoolOptions({ headers: { 'X-Foo': 'a\r\nb' } }, runtime), 'headers.X-Foo', 'a\r\nb');
    expectInvalid(() => resolvePoolOptions({ headers: { 'Bad Name': 'v' } }, runtime), 'headers.Bad Name', 'Bad Name');
  });

  it('names the offending element of a protocols array', () => {
    expectInvalid(() => resolvePoolOptions({ protocols: ['nostr', 'a b'] }, runtime), 'protocols[1]', 'a b');
    expectInvalid(() => resolvePoolOptions({ protocols: ['nostr', 'nostr'] }, runtime), 'protocols[1]', 'nostr');
  });

  it('says which limit a too-long timing breaks', () => {
    const error = thrown(() => resolvePoolOptions({ pingInterval: TOO_LONG }, runtime)) as Error;
    expect(error.message).toContain('2147483647');
    expect(error.message).toContain('setTimeout');
  });

  it('blames retry.maxDelay when only it is set below the default initialDelay', () => {
    expectInvalid(() => resolvePoolOptions({ retry: { maxDelay: 500 } }, runtime), 'retry.maxDelay', 500);
  });

  it('merges headers case-insensitively over the default User-Agent', () => {
    const { connection } = resolvePoolOptions({ headers: { 'user-agent': 'me/1', Authorization: 'x' } }, runtime);
    expect(connection.headers).toEqual({ 'user-agent': 'me/1', Authorization: 'x' });
  });

  it('normalizes a single protocol to an array', () => {
    expect(resolvePoolOptions({ protocols: 'nostr' }, runtime).connection.protocols).toEqual(['nostr']);
    expect(resolvePoolOptions({ protocols: ['a', 'b.v2'] }, runtime).connection.protocols).toEqual(['a', 'b.v2']);
  });

  it('merges a partial retry policy over the defaults', () => {
    const { retry } = resolvePoolOptions({ retry: { maxRetries: 3 } }, runtime).connection;
    expect(retry).toEqual({ ...DEFAULTS.retry, maxRetries: 3 });
  });

  it('keeps the given logger, factory, inspector and transport', () => {
    const logger = pino({ level: 'silent' });
    const workerFactory = () => ({}) as never;
    const inspect = () => undefined;
    const custom = fakeTransport('custom');
    const resolved = resolvePoolOptions({ logger, workerFactory, inspect, transport: custom }, runtime);
    expect(resolved.logger).toBe(logger);
    expect(resolved.workerFactory).toBe(workerFactory);
    expect(resolved.inspect).toBe(inspect);
    expect(resolved.connection.transport).toBe(custom);
  });

  it('refuses the removed `dialer` option, pointing at `transport`', () => {
    const error = thrown(() => resolvePoolOptions({ dialer: () => ({}) }, runtime)) as InvalidOptionError;
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.option).toBe('dialer');
    expect(error.message).toContain('`transport`');
  });

  it('copies tls options without undefined keys', () => {
    const tls = resolvePoolOptions({ tls: { ca: ['a', Buffer.from('b')], rejectUnauthorized: false, key: undefined } }, runtime).connection.tls;
    expect(tls).toEqual({ ca: ['a', Buffer.from('b')], rejectUnauthorized: false });
    expect(tls && 'key' in tls).toBe(false);
  });
});

describe('resolveConnectOptions', () => {
  const base = resolvePoolOptions({ headers: { Authorization: 'pool' }, retry: { maxRetries: 2, initialDelay: 500 }, pingInterval: 1000 }, runtime).connection;

  it('returns the base values when given no overrides', () => {
    expect(resolveConnectOptions(base, undefined)).toEqual(base);
    expect(resolveConnectOptions(base, {})).toEqual(base);
  });

  it('overrides timings, protocols, tls and transport for one peer', () => {
    const custom = fakeTransport('custom');
    const resolved = resolveConnectOptions(base, {
      pingInterval: 0,
      handshakeTimeout: 50,
      protocols: 'nostr',
      tls: { rejectUnauthorized: false },
      transport: custom
    });
    expect(resolved).toEqual({
      ...base,
      pingInterval: 0,
      handshakeTimeout: 50,
      protocols: ['nostr'],
      tls: { rejectUnauthorized: false },
      transport: custom
    });
  });

  it('merges headers case-insensitively over the pool headers', () => {
    const { headers } = resolveConnectOptions(base, { headers: { authorization: 'peer', 'X-Peer': '1' } });
    expect(headers).toEqual({ 'User-Agent': DEFAULTS.headers['User-Agent'], authorization: 'peer', 'X-Peer': '1' });
  });

  it('merges a partial retry policy over the pool policy', () => {
    const { retry } = resolveConnectOptions(base, { retry: { jitter: 0 } });
    expect(retry).toEqual({ maxRetries: 2, maxFlaps: 0, initialDelay: 500, maxDelay: 60_000, jitter: 0 });
  });

  it('checks initialDelay against the merged maxDelay', () => {
    expectInvalid(() => resolveConnectOptions(base, { retry: { maxDelay: 400 } }), 'retry.maxDelay', 400);
    expect(resolveConnectOptions(base, { retry: { maxDelay: 500 } }).retry.maxDelay).toBe(500);
  });

  it('does not change the base options', () => {
    const before = structuredClone({ ...base, transport: undefined });
    resolveConnectOptions(base, { headers: { 'X-A': '1' }, retry: { maxRetries: 9 }, protocols: ['p'] });
    expect({ ...base, transport: undefined }).toEqual(before);
  });

  it.each(rejected(connectTable).filter(([option]) => option !== 'options'))('rejects `%s` = %s, naming the option and the value', (option, _shown, value) => {
    expectInvalid(() => resolveConnectOptions(base, nested(option, value)), option, value);
  });

  it.each([['x'], [1], [null], [[]]])('rejects per-peer options that are %o', (value) => {
    expectInvalid(() => resolveConnectOptions(base, value), 'options', value);
  });

  it.each([
    ['inboxSize', 10],
    ['id', 'x'],
    ['logger', pino({ level: 'silent' })],
    ['workerFactory', () => ({})],
    ['typo', 1]
  ])('rejects the pool-only or unknown option `%s`', (option, value) => {
    expectInvalid(() => resolveConnectOptions(base, { [option]: value }), option, value);
    expect((thrown(() => resolveConnectOptions(base, { [option]: value })) as Error).message).toContain('per-peer');
  });
});
