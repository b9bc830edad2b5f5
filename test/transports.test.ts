import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import WebSocket from 'ws';
import type { WorkerEmitted } from '../machines/worker-events.ts';
import { workerMachine } from '../machines/worker-machine.ts';
import { ErrorCodes, UnsupportedOptionError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import { createPool } from '../src/node.ts';
import { toPoolEvent, toWorkerEmitted, type PoolEvent } from '../src/pool-event.ts';
import { utf8Length, type Transport } from '../src/transport.ts';
import { webSocketTransport } from '../src/transports/web-socket.ts';
import { wsTransport } from '../src/transports/ws.ts';
import { probeWorkerFactory } from '../src/default-worker.ts';
import { describeWorkerContract } from '../src/testkit/vitest.ts';
import { workerFromMachine } from '../src/worker-from-machine.ts';
import { startHungServer } from './helpers/servers.ts';
import { useCleanups } from './helpers/cleanups.ts';
import { thrown } from './helpers/thrown.ts';

// The standard-WebSocket transport, run in Node on ws's own class (it has the standard API).
// ws's class fits the standard constructor type as is: no cast (strict TypeScript).
const web = webSocketTransport(WebSocket);

const { defer, server, pool } = useCleanups();

function refused(run: () => unknown, option: string): UnsupportedOptionError {
  const error = thrown(run) as UnsupportedOptionError;
  expect(error).toBeInstanceOf(UnsupportedOptionError);
  expect(error.code).toBe(ErrorCodes.UNSUPPORTED_OPTION);
  expect(error.option).toBe(option);
  expect(error.transport).toBe('web-socket');
  expect(error.message).toContain(`\`${option}\``);
  return error;
}

/** A logger with pino's shape and nothing else: every line lands in `lines`. */
function plainLogger(lines: Array<{ level: string; message: string; fields: unknown }> = []): Logger {
  const at = (level: string) => (fields: unknown, message?: string) =>
    void lines.push(typeof fields === 'string' ? { level, message: fields, fields: {} } : { level, message: message ?? '', fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

describe('webSocketTransport (the standard WebSocket API)', () => {
  it('connects, receives text and binary, sends both, and counts bytes in UTF-8', async () => {
    const peer = await server();
    const got: Array<string | Buffer> = [];
    peer.wss.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => void got.push(isBinary ? (data as Buffer) : String(data)));
      socket.send('héllo');
      socket.send(Buffer.from([1, 2, 3]));
    });
    const p = pool({ transport: web });
    const id = p.connect(peer.url);
    await p.ready(id);
    const received = p.inbox.drain();
    await expect.poll(() => (received.push(...p.inbox.drain()), received.length)).toBe(2);
    expect(received.map((m) => m.data)).toEqual(['héllo', new Uint8Array([1, 2, 3])]);
    p.send(id, 'ça');
    p.send(id, new Uint8Array([9, 8]));
    await expect.poll(() => got).toEqual(['ça', Buffer.from([9, 8])]);
    expect(p.peerStats(id)).toMatchObject({ received: 2, sent: 2, bytesIn: 9, bytesOut: 5, connected: true, paused: false });
  });

  it('closes with 1009 (cause read_limit) on a message above readLimit, which never reaches the inbox', async () => {
    const peer = await server();
    peer.wss.on('connection', (socket) => socket.send('x'.repeat(100)));
    const p = pool({ transport: web, readLimit: 50 });
    const disconnected = new Promise((resolve) => p.actor.on('disconnected', resolve));
    p.connect(peer.url);
    expect(await disconnected).toMatchObject({ code: 1009, cause: 'read_limit' });
    expect(p.inbox.depth).toBe(0);
  });

  it('fails a dial whose handshake hangs after handshakeTimeout', async () => {
    const hung = await startHungServer();
    defer(() => hung.close());
    const p = pool({ transport: web, handshakeTimeout: 100, retry: { initialDelay: 60_000, maxDelay: 60_000 } });
    const failed = new Promise<{ error: string }>((resolve) => p.actor.on('dial_failed', resolve));
    p.connect(hung.url);
    expect((await failed).error).toBe('handshake not done within 100 ms');
  });

  it('throws a typed error without a constructor on a runtime that has no global WebSocket', () => {
    const global = globalThis as { WebSocket?: unknown };
    const saved = global.WebSocket;
    delete global.WebSocket;
    try {
      expect((thrown(() => webSocketTransport()) as { option?: string }).option).toBe('transport');
    } finally {
      if (saved !== undefined) global.WebSocket = saved;
    }
  });
});

// The default worker of this transport keeps the whole worker contract on it.
describeWorkerContract('the probe worker on the standard WebSocket transport', probeWorkerFactory, { connection: { transport: web } });

describe('workerFromMachine(machine, { transport })', () => {
  it("opens its workers' sockets with its own transport, and the pool checks options against it", async () => {
    const peer = await server();
    const handshakes: Array<string | undefined> = [];
    peer.wss.on('connection', (_socket, request) => handshakes.push(request.headers['user-agent']));
    const factory = workerFromMachine(workerMachine, { transport: web });
    refused(() => createPool({ workerFactory: factory, headers: { 'X-A': '1' } }), 'headers');
    // A ping-frame machine on a pingless transport: the default pingInterval becomes 0 instead of a refusal.
    const p = pool({ workerFactory: factory, inboxOverflow: 'drop-newest' });
    await p.ready(p.connect(peer.url));
    // The ws transport would have sent honeybee's User-Agent.
    expect(handshakes).toEqual([undefined]);
  });
});

describe('options a transport cannot honour', () => {
  it('are refused at createPool, naming the option, the transport and what to use instead', () => {
    expect(refused(() => createPool({ transport: web, headers: { Authorization: 'x' } }), 'headers').message).toContain('URL');
    expect(refused(() => createPool({ transport: web, tls: { rejectUnauthorized: false } }), 'tls').message).toContain('trust store');
    expect(refused(() => createPool({ transport: web, inboxOverflow: 'block' }), 'inboxOverflow').message).toContain("'drop-oldest'");
    const pinging = workerFromMachine(workerMachine);
    expect(refused(() => createPool({ transport: web, workerFactory: pinging, pingInterval: 5000 }), 'pingInterval').message).toContain('probe');
  });

  it('are refused at connect for a peer on another transport, including what the pool was given', () => {
    const blocking = pool({});
    refused(() => blocking.connect('ws://127.0.0.1:9/a', { transport: web }), 'inboxOverflow');
    const withHeaders = pool({ inboxOverflow: 'drop-newest', headers: { 'X-Pool': '1' } });
    refused(() => withHeaders.connect('ws://127.0.0.1:9/b', { transport: web }), 'headers');
    const plain = pool({ inboxOverflow: 'drop-newest' });
    refused(() => plain.connect('ws://127.0.0.1:9/c', { transport: web, headers: { 'X-Peer': '1' } }), 'headers');
    // The pool's default User-Agent is a default, not a request: that peer simply goes without it.
    expect(plain.connect('ws://127.0.0.1:9/d', { transport: web })).toBe('ws://127.0.0.1:9/d');
  });

  it('change the defaults instead when nothing was asked: a default pool on this transport works', async () => {
    const peer = await server();
    const handshakes: Array<string | undefined> = [];
    peer.wss.on('connection', (_socket, request) => handshakes.push(request.headers['user-agent']));
    const p = pool({ transport: web });
    await p.ready(p.connect(peer.url));
    expect(handshakes).toEqual([undefined]);
  });
});

describe('liveness without ping frames', () => {
  it('the default worker on a transport without ping frames is the probe worker: probes every pingInterval, echoes consumed', async () => {
    const peer = await server();
    const frames: string[] = [];
    peer.wss.on('connection', (socket) =>
      socket.on('message', (data) => {
        frames.push(String(data));
        socket.send(String(data));
      })
    );
    const p = pool({ transport: web, pingInterval: 40, keepaliveTimeout: 1000 });
    const id = p.connect(peer.url);
    await p.ready(id);
    await expect.poll(() => frames.length).toBeGreaterThanOrEqual(2);
    expect(new Set(frames)).toEqual(new Set(['["PROBE"]']));
    expect(p.inbox.depth).toBe(0);
    expect(p.peerStats(id).connected).toBe(true);
  });

  it('keepalive still detects a silent peer (no answer to the probes)', async () => {
    const peer = await server();
    const p = pool({ transport: web, pingInterval: 30, keepaliveTimeout: 150 });
    const disconnected = new Promise((resolve) => p.actor.on('disconnected', resolve));
    p.connect(peer.url);
    expect(await disconnected).toMatchObject({ cause: 'keepalive_timeout', reason: 'probe unanswered' });
  });
});

describe('the logger shape', () => {
  it('takes any object with debug, info, warn, error and child, and logs through it', async () => {
    const lines: Array<{ level: string; message: string; fields: unknown }> = [];
    const p = pool({ logger: plainLogger(lines), retry: { initialDelay: 60_000, maxDelay: 60_000 } });
    p.connect('ws://127.0.0.1:9/nobody');
    await expect.poll(() => lines.filter((line) => line.level === 'warn').map((line) => line.message)).toContain('dial failed');
  });

  it('warns once when a transport with a socket limit is asked for more peers', () => {
    const lines: Array<{ level: string; message: string; fields: unknown }> = [];
    const capped: Transport = { ...wsTransport, socketLimit: 3 };
    const p = pool({ logger: plainLogger(lines), transport: capped, retry: { initialDelay: 60_000, maxDelay: 60_000 } });
    for (let i = 0; i < 3; i += 1) p.connect(`ws://127.0.0.1:9/p${i}`);
    expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
    for (let i = 3; i < 6; i += 1) p.connect(`ws://127.0.0.1:9/p${i}`);
    const warnings = lines.filter((line) => line.level === 'warn' && line.message.includes('WebSockets'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ peers: 4, socketLimit: 3 });
  });
});

describe('one event definition', () => {
  it('PoolEvent is WorkerEmitted with type renamed kind, and the conversion round-trips', () => {
    expectTypeOf<PoolEvent['kind']>().toEqualTypeOf<WorkerEmitted['type']>();
    expectTypeOf<Extract<PoolEvent, { kind: 'disconnected' }>>().toEqualTypeOf<{
      readonly kind: 'disconnected';
      readonly id: string;
      readonly at: number;
      readonly code: number;
      readonly reason: string;
      readonly cause: Extract<WorkerEmitted, { type: 'disconnected' }>['cause'];
    }>();
    const emitted: WorkerEmitted = { type: 'dial_failed', id: 'ws://a', at: 1, attempt: 2, error: 'x' };
    expect(toPoolEvent(emitted)).toEqual({ kind: 'dial_failed', id: 'ws://a', at: 1, attempt: 2, error: 'x' });
    expect(toWorkerEmitted(toPoolEvent(emitted))).toEqual(emitted);
  });
});

describe('utf8Length', () => {
  it('agrees with Buffer.byteLength for every string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => utf8Length(text) === Buffer.byteLength(text)));
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (text) => utf8Length(text) === Buffer.byteLength(text)));
  });
});
