import { describe, expect, it } from 'vitest';
import type { WebSocket as ServerSocket } from 'ws';
import {
  BackpressureError,
  ErrorCodes,
  HoneybeeError,
  InvalidOptionError,
  InvalidPayloadError,
  InvalidPoolIdError,
  InvalidUrlError,
  PeerNotFoundError,
  WriteFailedError
} from '../src/errors.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { PoolEvent, PoolOptions } from '../src/types.ts';
import { redirectTransport, throwingTransport } from './helpers/transports.ts';
import { startHungServer, type TestServer } from './helpers/servers.ts';
import { thrown } from './helpers/thrown.ts';
import { rawSocketOf } from './helpers/hostile-servers.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';

// Bad input at every public entry point: each gets its own typed
// HoneybeeError (never a TypeError from deep inside), nothing half-registered
// stays behind, and the pool keeps working afterwards.

const { pool: openPool, server, track } = usePoolFixture();

async function openServer(): Promise<TestServer & { received: Array<{ data: Buffer; isBinary: boolean }> }> {
  const started = await server();
  const received: Array<{ data: Buffer; isBinary: boolean }> = [];
  started.wss.on('connection', (socket) => socket.on('message', (data, isBinary) => received.push({ data: data as Buffer, isBinary })));
  return Object.assign(started, { received });
}

function expectTyped<T extends HoneybeeError>(fn: () => unknown, type: abstract new (...args: never[]) => T): T {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(type);
  expect((error as HoneybeeError).code).toMatch(/^HONEYBEE_ERR_/);
  return error as T;
}

/** Resolves with the first event matching `match` (reads the events stream until then). */
async function nextEvent(pool: Pool, match: (event: PoolEvent) => boolean, timeout = 5000): Promise<PoolEvent> {
  const iterator = pool.events[Symbol.asyncIterator]();
  const timer = setTimeout(() => void iterator.return?.(), timeout);
  try {
    for (;;) {
      const result = await iterator.next();
      if (result.done === true) throw new Error('no matching event before the timeout');
      if (match(result.value)) return result.value;
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
}

const connectedEvent = (id: string) => (event: PoolEvent) => event.kind === 'connected' && event.id === id;

/** Proves the pool still works: a good peer connects and carries a message. */
async function expectStillWorks(pool: Pool, server: TestServer & { received: Array<{ data: Buffer }> }, path = '/good'): Promise<void> {
  const id = pool.connect(`${server.url}${path}`);
  await nextEvent(pool, connectedEvent(id));
  const before = server.received.length;
  pool.send(id, `ok ${path}`);
  await expect.poll(() => server.received.slice(before).map((m) => String(m.data))).toEqual([`ok ${path}`]);
}

// ---------------------------------------------------------------------------

describe('pool.connect(url)', () => {
  const BAD_URLS: Array<[string, unknown]> = [
    ['empty', ''],
    ['blank', '   '],
    ['http', 'http://a.com'],
    ['https', 'https://a.com'],
    ['ftp', 'ftp://a.com'],
    ['file', 'file:///etc/passwd'],
    ['mailto', 'mailto:x@y.z'],
    ['javascript', 'javascript:alert(1)'],
    ['data', 'data:text/plain,hi'],
    ['scheme only', 'ws:'],
    ['no host', 'ws://'],
    ['no host (wss)', 'wss://'],
    ['no slashes', 'ws:a.com'],
    ['one slash', 'ws:/a.com'],
    ['no colon', 'ws//a.com'],
    ['scheme-relative', '//a.com'],
    ['bare host', 'a.com'],
    ['space in host', 'ws://a b.com'],
    ['percent-encoded space in host', 'ws://exa%20mple.com'],
    ['bad percent in host', 'ws://%zz.com'],
    ['port too large', 'ws://a.com:99999'],
    ['port 65536', 'ws://a.com:65536'],
    ['negative port', 'ws://a.com:-1'],
    ['named port', 'ws://a.com:port'],
    ['two ports', 'ws://a.com:80:80'],
    ['unclosed IPv6', 'ws://[::1'],
    ['bad IPv6', 'ws://[zz::1]'],
    ['junk after IPv6', 'ws://[::1]x'],
    ['IPv4 out of range', 'ws://256.0.0.1'],
    ['five IPv4 parts', 'ws://1.2.3.4.5'],
    ['credentials, no host', 'ws://u:p@'],
    ['user, no host', 'wss://user@'],
    ['NUL in host', 'ws://\u0000host'],
    ['markup host', 'ws://<script>'],
    ['empty punycode label', 'ws://xn--/'],
    ['null', null],
    ['undefined', undefined],
    ['number', 42],
    ['object', {}],
    ['array', ['ws://a.com']],
    ['URL object', new URL('ws://a.com')],
    ['String object', new String('ws://a.com')],
    ['Buffer', Buffer.from('ws://a.com')],
    ['symbol', Symbol('ws://a.com')],
    ['function', () => 'ws://a.com']
  ];

  it(`rejects each of ${BAD_URLS.length} bad URLs with InvalidUrlError, registers nothing, and still works`, async () => {
    const server = await openServer();
    const pool = openPool();
    for (const [label, input] of BAD_URLS) {
      const error = expectTyped(() => pool.connect(input as string), InvalidUrlError);
      expect(error.code, label).toBe(ErrorCodes.INVALID_URL);
      expect(error.message, label).toMatch(/^Invalid peer URL /);
    }
    expect(pool.peers()).toEqual([]);
    expect(pool.stats().peerCount).toBe(0);
    await expectStillWorks(pool, server);
  });

  it('does not put a password from a rejected URL in the error', () => {
    const pool = openPool();
    for (const input of ['http://alice:hunter2@a.com', 'ws://alice:hunter2@', 'ws://alice:hunter2@a b.com']) {
      const error = expectTyped(() => pool.connect(input), InvalidUrlError);
      expect(error.message).not.toContain('hunter2');
      expect(error.input).not.toContain('hunter2');
      expect(String(error.stack)).not.toContain('hunter2');
    }
  });
});

describe('ids with odd characters', () => {
  // These parse, so connect accepts them. A transport that ignores the host sends
  // them all to the local server: no DNS, and each really connects.
  const longHost = `ws://${'h'.repeat(60)}.${'o'.repeat(60)}.${'s'.repeat(60)}.${'t'.repeat(60)}.${'x'.repeat(55)}`;
  // [label, what the user passes, the id connect returns]; `base` is the local server's URL.
  const ODD: Array<[string, (base: string) => string, (base: string) => string]> = [
    ['unicode host (IDNA)', () => 'ws://BÏenenstöck.example/ü/', () => 'ws://xn--benenstck-05a7f.example/%C3%BC'],
    ['emoji host', () => 'ws://🐝.example/', () => 'ws://xn--lo8h.example'],
    ['percent-encoding kept as given', (b) => `${b}/a%2Fb/%F0%9F%90%9D?q=%20`, (b) => `${b}/a%2Fb/%F0%9F%90%9D?q=%20`],
    ['spaces in the path', (b) => `${b}/with space/`, (b) => `${b}/with%20space`],
    ['tab and newline inside (dropped by the URL parser)', (b) => `${b}/a\tb\nc`, (b) => `${b}/abc`],
    ['very long path (4 KiB)', (b) => `${b}/${'p'.repeat(4096)}`, (b) => `${b}/${'p'.repeat(4096)}`],
    ['very long host (305 characters)', () => longHost.toUpperCase(), () => longHost]
  ];

  it.each(ODD)('%s: connect normalizes it, and send/peerStats/remove accept the id or its raw form', async (_label, make, expected) => {
    const server = await openServer();
    // Every peer dials the local server whatever its host: no DNS, and each really connects.
    const pool = openPool({ transport: redirectTransport(server.url) });
    const raw = make(server.url);
    const id = pool.connect(raw);
    expect(id).toBe(expected(server.url));
    await nextEvent(pool, connectedEvent(id));

    pool.send(raw, 'via raw');
    pool.send(id, 'via id');
    await expect.poll(() => server.received.map((m) => String(m.data))).toEqual(['via raw', 'via id']);
    expect(pool.peerStats(raw).id).toBe(id);
    pool.remove(raw);
    expect(pool.peers()).toEqual([]);
    expectTyped(() => pool.send(id, 'x'), PeerNotFoundError);
  });

  it('a path too long for the server (20 KiB) fails each dial with dial_failed naming HTTP 431, typed and retried', async () => {
    const server = await openServer();
    const pool = openPool({ retry: { initialDelay: 50, maxDelay: 50 } });
    const id = pool.connect(`${server.url}/${'x'.repeat(20 * 1024)}`);
    const failed = await nextEvent(pool, (event) => event.kind === 'dial_failed' && event.id === id);
    expect(failed).toMatchObject({ kind: 'dial_failed', attempt: 1 });
    expect((failed as Extract<PoolEvent, { kind: 'dial_failed' }>).error).toContain('431');
    await expectStillWorks(pool, server);
  });

  it.each([
    ['an unknown but valid id', 'ws://127.0.0.1:9/nobody', PeerNotFoundError],
    ['an invalid URL', 'not a url', InvalidUrlError],
    ['an id with spaces in the host', 'ws://a b', InvalidUrlError],
    ['an empty string', '', InvalidUrlError],
    ['a number', 42, InvalidUrlError],
    ['null', null, InvalidUrlError],
    ['a symbol', Symbol('id'), InvalidUrlError],
    ['an object', { id: 'ws://a.com' }, InvalidUrlError]
  ])('send, remove and peerStats with %s throw %o', (_label, id, type) => {
    const pool = openPool();
    pool.connect('ws://127.0.0.1:9/known', { transport: throwingTransport('not dialed') });
    for (const call of [() => pool.send(id as string, 'x'), () => pool.remove(id as string), () => pool.peerStats(id as string)]) {
      expectTyped(call, type as typeof HoneybeeError);
    }
    expect(pool.peers()).toEqual(['ws://127.0.0.1:9/known']);
  });
});

describe('options', () => {
  const TOO_LONG = 2 ** 31;
  // [option, out-of-range value, wrongly typed value]; options both createPool and connect take.
  const PER_PEER: Array<[string, unknown, unknown]> = [
    ['reconnectDelay', -1, '5'],
    ['minUptime', -1, null],
    ['keepaliveTimeout', TOO_LONG, {}],
    ['pingInterval', -5, []],
    ['handshakeTimeout', 0, '1000'],
    ['closeTimeout', 0, false],
    ['readLimit', -1, '1kb'],
    ['sendHighWaterMark', 0, 10n],
    ['headers', { 'bad name': 'x' }, 'User-Agent: x'],
    ['headers.X-Custom', 'a\r\nb', 1],
    ['headers.X-Euro', '5 €', ['x']],
    ['protocols', 'a b', 1],
    ['protocols[1]', ['ok', 'ok'], ['ok', 2]],
    ['tls', { servername: 'x' }, 'x'],
    ['tls.ca', undefined, 1],
    ['tls.rejectUnauthorized', 'false', 0],
    ['retry', { factor: 2 }, 'x'],
    ['retry.maxRetries', -1, '3'],
    ['retry.initialDelay', 0, '1'],
    ['retry.maxDelay', -1, null],
    ['retry.jitter', 1.5, '0.2'],
    ['transport', undefined, 'ws']
  ];
  const POOL_ONLY: Array<[string, unknown, unknown]> = [
    ['inboxSize', 0, '256'],
    ['eventsSize', -1, true],
    ['inboxOverflow', 'drop', 1],
    ['logger', { info: () => {} }, 'info'],
    ['workerFactory', undefined, {}],
    ['inspect', { next: 1 }, 1]
  ];

  /** `{ a: { b: v } }` from `a.b`, `{ protocols: v }` from `protocols[1]`, with the error's expected option name. */
  function build(option: string, value: unknown): { options: Record<string, unknown>; name: string } {
    const base = option.replace(/\[\d+\]$/, '');
    const [head, tail] = base.split(/\.(.*)/s) as [string, string | undefined];
    const options = { [head]: tail === undefined ? value : { [tail]: value } };
    let name = option;
    if (option === 'headers' && typeof value === 'object') name = 'headers.bad name';
    if (option === 'tls' && typeof value === 'object') name = 'tls.servername';
    if (option === 'retry' && typeof value === 'object') name = 'retry.factor';
    return { options, name };
  }

  const rows = (table: Array<[string, unknown, unknown]>) =>
    table.flatMap(([option, outOfRange, wrongType]) => [
      ...(outOfRange === undefined ? [] : [[option, 'out of range', outOfRange] as const]),
      [option, 'wrongly typed', wrongType] as const
    ]);

  it.each([...rows(POOL_ONLY), ...rows(PER_PEER)])('createPool rejects %s %s (%o) with InvalidOptionError naming it', (option, _kind, value) => {
    const { options, name } = build(option, value);
    const error = expectTyped(() => createPool(options as PoolOptions), InvalidOptionError);
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION);
    expect(error.option).toBe(name);
    expect(error.message).toContain(`\`${name}\``);
  });

  it.each([[''], ['  '], [0], [null], [{}]])('createPool rejects the pool id %o with InvalidPoolIdError', (id) => {
    expectTyped(() => createPool({ id } as unknown as PoolOptions), InvalidPoolIdError);
  });

  it.each([
    ['a string', 'x'],
    ['an array', []],
    ['a Map', new Map()],
    ['a class instance', new Date()]
  ])('createPool and connect reject %s as the options object', (_label, options) => {
    expect(expectTyped(() => createPool(options as PoolOptions), InvalidOptionError).option).toBe('options');
    const pool = openPool();
    expect(expectTyped(() => pool.connect('ws://127.0.0.1:9', options as PoolOptions), InvalidOptionError).option).toBe('options');
    expect(pool.peers()).toEqual([]);
  });

  it(`connect rejects every per-peer option out of range or wrongly typed, and pool-only options, registering nothing`, async () => {
    const server = await openServer();
    const pool = openPool();
    const url = `${server.url}/bad-options`;
    const cases = [
      ...rows(PER_PEER).map(([option, , value]) => build(option, value)),
      ...POOL_ONLY.map(([option, value]) => ({ options: { [option]: value ?? 1 }, name: option })),
      { options: { id: 'other' }, name: 'id' }
    ];
    expect(cases.length).toBeGreaterThan(45);
    for (const { options, name } of cases) {
      const error = expectTyped(() => pool.connect(url, options as PoolOptions), InvalidOptionError);
      expect(error.option, name).toBe(name);
      expect(pool.peers()).toEqual([]);
    }
    // The same URL is free: nothing was half-registered.
    await expectStillWorks(pool, server, '/bad-options');
  });
});

describe('pool.send(id, payload)', () => {
  /**
   * Accepted: a string (text frame), a Uint8Array or any subclass of it such as
   * Buffer, including views with an offset (binary frame of the view's bytes),
   * and an ArrayBuffer. Everything else, including other typed arrays,
   * DataView and SharedArrayBuffer (whose byte order or sharing make the
   * intent ambiguous), boxed strings, Blobs and Uint8Arrays from another realm,
   * is rejected with InvalidPayloadError before the connection is touched.
   */
  class Bytes extends Uint8Array {}
  const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
  const ACCEPTED: Array<[string, string | Uint8Array | ArrayBuffer, boolean, number[] | string]> = [
    ['a string', 'héllo', false, 'héllo'],
    ['an empty string', '', false, ''],
    ['a Uint8Array', new Uint8Array([1, 2, 3]), true, [1, 2, 3]],
    ['a Buffer', Buffer.from([4, 5]), true, [4, 5]],
    ['a Uint8Array subclass', Bytes.from([6, 7]), true, [6, 7]],
    ['a view with an offset (only its bytes)', backing.subarray(2, 5), true, [2, 3, 4]],
    ['an empty Uint8Array', new Uint8Array(0), true, []],
    ['an ArrayBuffer', new Uint8Array([8, 9]).buffer, true, [8, 9]],
    ['a Uint8Array over a SharedArrayBuffer', new Uint8Array(new SharedArrayBuffer(2)).fill(7), true, [7, 7]]
  ];
  const REJECTED: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['NaN', Number.NaN],
    ['a boolean', true],
    ['a bigint', 10n],
    ['a plain object', { data: 'x' }],
    ['an empty array', []],
    ['an array of bytes', [1, 2, 3]],
    ['a symbol', Symbol('x')],
    ['a function', () => 'x'],
    ['a Date', new Date()],
    ['a Map', new Map([['a', 1]])],
    ['a String object', new String('x')],
    ['a Promise', Promise.resolve('x')],
    ['a DataView', new DataView(new ArrayBuffer(2))],
    ['an Int16Array', new Int16Array([1, 2])],
    ['a Float64Array', new Float64Array([1.5])],
    ['a Uint8ClampedArray', new Uint8ClampedArray([1])],
    ['a SharedArrayBuffer', new SharedArrayBuffer(4)],
    ['a Blob', new Blob(['x'])]
  ];

  it('rejects every wrong payload type with InvalidPayloadError, while connected and while dialing, counting nothing', async () => {
    const server = await openServer();
    const hung = track(await startHungServer());
    const pool = openPool();
    const id = pool.connect(server.url);
    const dialing = pool.connect(hung.url);
    for (const [label, payload] of REJECTED) {
      const error = expectTyped(() => pool.send(dialing, payload as string), InvalidPayloadError);
      expect(error.code, label).toBe(ErrorCodes.INVALID_PAYLOAD);
    }
    await nextEvent(pool, connectedEvent(id));
    for (const [label, payload] of REJECTED) {
      const error = expectTyped(() => pool.send(id, payload as string), InvalidPayloadError);
      expect(error.message, label).toContain(id);
    }
    expect(pool.stats().totalSent).toBe(0);
    expect(pool.peerStats(id)).toMatchObject({ sent: 0, bytesOut: 0, connected: true });
    pool.send(id, 'after all that');
    await expect.poll(() => server.received.map((m) => String(m.data))).toEqual(['after all that']);
  });

  it('sends every accepted payload type as the right frame with exactly its bytes', async () => {
    const server = await openServer();
    const pool = openPool();
    const id = pool.connect(server.url);
    await nextEvent(pool, connectedEvent(id));
    for (const [, payload] of ACCEPTED) pool.send(id, payload);
    await expect.poll(() => server.received.length).toBe(ACCEPTED.length);
    ACCEPTED.forEach(([label, , isBinary, expected], i) => {
      const got = server.received[i] as { data: Buffer; isBinary: boolean };
      expect(got.isBinary, label).toBe(isBinary);
      expect(typeof expected === 'string' ? got.data.toString('utf8') : [...got.data], label).toEqual(expected);
    });
    expect(pool.stats().totalSent).toBe(ACCEPTED.length);
  });

  it('rejects a detached ArrayBuffer with a typed error and keeps the connection usable', async () => {
    const server = await openServer();
    const pool = openPool();
    const id = pool.connect(server.url);
    await nextEvent(pool, connectedEvent(id));
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });

    expectTyped(() => pool.send(id, detached), WriteFailedError);

    expect(pool.stats().totalSent).toBe(0);
    pool.send(id, 'fine');
    await expect.poll(() => server.received.map((m) => String(m.data))).toEqual(['fine']);
    expect(pool.peerStats(id).connected).toBe(true);
  });

  it('accepts one payload larger than sendHighWaterMark, refuses the next with BackpressureError until the peer reads, and delivers it intact', async () => {
    const server = await openServer();
    const serverSide = new Promise<ServerSocket>((resolve) => server.wss.once('connection', resolve));
    const highWaterMark = 1024 * 1024;
    const pool = openPool({ sendHighWaterMark: highWaterMark });
    const id = pool.connect(server.url);
    rawSocketOf(await serverSide).pause();
    await nextEvent(pool, connectedEvent(id));

    // Far more than the loopback kernel buffers hold, so most of it waits in ws.
    const big = new Uint8Array(32 * 1024 * 1024).fill(0x5a);
    big[big.length - 1] = 0x21;
    pool.send(id, big);
    expect(pool.peerStats(id).bufferedAmount).toBeGreaterThan(highWaterMark);
    const error = expectTyped(() => pool.send(id, 'one more'), BackpressureError);
    expect(error.bufferedAmount).toBeGreaterThan(highWaterMark);
    expect(pool.stats().totalSent).toBe(1);

    rawSocketOf(await serverSide).resume();
    await expect.poll(() => server.received.length, { timeout: 10_000 }).toBe(1);
    const got = (server.received[0] as { data: Buffer }).data;
    expect(got.length).toBe(big.length);
    expect(got[0]).toBe(0x5a);
    expect(got[got.length - 1]).toBe(0x21);
    await expect.poll(() => pool.peerStats(id).bufferedAmount).toBe(0);
    pool.send(id, 'one more');
    await expect.poll(() => server.received.length).toBe(2);
  });
});
