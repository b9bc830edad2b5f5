import { afterEach, describe, expect, it } from 'vitest';
import { parseAuthFrame, signerFrom } from '../machines/examples/auth-protocol.ts';
import { authWorkerMachine } from '../machines/examples/auth-worker-machine.ts';
import { ErrorCodes } from '../src/errors.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { PoolEvent } from '../src/types.ts';
import { workerFromMachine } from '../src/worker-from-machine.ts';
import { badSignerLogic, nostrAuthLogic, nostrAuthPeer } from './helpers/contract-peers.ts';
import { flushPromises, startExample } from './helpers/example-harness.ts';
import { startServer, type TestServer } from './helpers/servers.ts';

const sign = signerFrom((challenge) => `signed:${challenge}`);

function startAuth(signer = sign) {
  return startExample(authWorkerMachine, { timing: { handshakeTimeout: 1000 }, actors: { handshake: signer } });
}

/** Opens the fake socket and answers the challenge `c1`; resolves once the answer is out. */
async function openAndAnswer(w: ReturnType<typeof startAuth>): Promise<void> {
  w.fake.current.open();
  expect(w.link.deliver('["AUTH","c1"]')).toBe(true);
  await flushPromises();
}

describe('parseAuthFrame', () => {
  it.each<[string, ReturnType<typeof parseAuthFrame>]>([
    ['["AUTH","c1"]', { type: 'auth.challenge', challenge: 'c1' }],
    [' [ "OK", "e1", true, "" ]', { type: 'auth.ok' }],
    ['["OK","e1",false,"auth-required: bad"]', { type: 'auth.rejected', reason: 'auth-required: bad' }],
    ['["OK","e1",false]', { type: 'auth.rejected', reason: 'rejected' }],
    ['["EVENT","sub",{}]', undefined],
    ['["AUTH",42]', undefined],
    ['["AUTH", broken', undefined],
    ['AUTH', undefined]
  ])('reads %s', (frame, expected) => {
    expect(parseAuthFrame(frame)).toEqual(expected);
  });

  it('ignores binary frames', () => {
    expect(parseAuthFrame(new TextEncoder().encode('["AUTH","c1"]'))).toBeUndefined();
  });
});

describe('handshaking', () => {
  it('stays dialing after the socket opens, answers the challenge, and reports connected only on OK', async () => {
    const w = startAuth();
    w.fake.current.open();
    expect(w.tags()).toEqual(['dialing', 'handshaking']);
    expect(w.link.deliver('["AUTH","c1"]')).toBe(true);
    await flushPromises();
    expect(w.link.sentFrames).toEqual(['["AUTH","signed:c1"]']);
    expect(w.kinds()).toEqual([]);
    expect(w.link.deliver('["OK","e1",true,""]')).toBe(true);
    expect(w.kinds()).toEqual(['connected']);
    expect(w.tags()).toEqual(['connected']);
  });

  it('keeps the challenge out of the worker context, and removes its frame tap when the handshake ends', async () => {
    const w = startAuth();
    await openAndAnswer(w);
    const { link: _link, ...context } = w.actor.getSnapshot().context;
    expect(JSON.stringify(context)).not.toContain('c1');
    expect(w.link.tap).toBeDefined();
    w.link.deliver('["OK","e1",true,""]');
    expect(w.link.tap).toBeUndefined();
  });

  it('lets frames that are not part of the handshake through to the inbox', () => {
    const w = startAuth();
    w.fake.current.open();
    expect(w.link.deliver('["NOTICE","welcome"]')).toBe(false);
    expect(w.link.deliver(Uint8Array.of(1))).toBe(false);
  });

  it.each<[string, (w: ReturnType<typeof startAuth>) => void, string]>([
    ['the relay rejects the answer', (w) => w.link.deliver('["OK","e1",false,"auth-required: bad signature"]'), 'authentication rejected: auth-required: bad signature'],
    ['the handshake outlives handshakeTimeout', (w) => w.advance(1000), 'handshake not done within 1000 ms of the socket opening'],
    ['the socket closes during the handshake', (w) => w.fake.current.close(4001, 'go away'), 'socket closed with code 4001 during the handshake']
  ])('counts a failed dial and backs off when %s', async (_name, breakIt, error) => {
    const w = startAuth();
    await openAndAnswer(w);
    breakIt(w);
    expect(w.events).toEqual([expect.objectContaining({ type: 'dial_failed', attempt: 1, error })]);
    expect(w.tags()).toEqual(['backoff']);
    expect(w.fake.current.cleanedUp).toBe(true);
    expect(w.link.tap).toBeUndefined();
  });

  it('counts a failed dial when the signer throws', async () => {
    const w = startAuth(signerFrom(() => Promise.reject(new Error('key locked'))));
    await openAndAnswer(w);
    expect(w.events).toEqual([expect.objectContaining({ type: 'dial_failed', error: 'signer failed: key locked' })]);
  });

  it('fails the dial with a message naming signerFrom when no signer was provided', async () => {
    const w = startExample(authWorkerMachine);
    await openAndAnswer(w as ReturnType<typeof startAuth>);
    expect(w.events[0]).toMatchObject({ type: 'dial_failed', error: expect.stringContaining('signerFrom') });
  });

  it('stops silently and finally when stopped mid-handshake', async () => {
    const w = startAuth(signerFrom(() => new Promise(() => {})));
    await openAndAnswer(w);
    w.actor.send({ type: 'worker.stop' });
    expect(w.actor.getSnapshot().status).toBe('done');
    expect(w.events).toEqual([]);
    expect(w.fake.current.cleanedUp).toBe(true);
  });
});

describe('connected', () => {
  it('sends a close frame and emits disconnected local_stop when stopped', async () => {
    const w = startAuth();
    await openAndAnswer(w);
    w.link.deliver('["OK","e1",true,""]');
    w.actor.send({ type: 'worker.stop' });
    expect(w.fake.current.commands).toEqual([{ type: 'socket.close', code: 1000, reason: 'worker stopped' }]);
    expect(w.kinds()).toEqual(['connected', 'disconnected']);
    expect(w.events[1]).toMatchObject({ cause: 'local_stop' });
  });
});

// The example in a real pool against a NIP-42 relay stand-in on 127.0.0.1.
describe('in a pool', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function relay(hooks = nostrAuthPeer()): Promise<{ server: TestServer; hooks: ReturnType<typeof nostrAuthPeer> }> {
    const server = await startServer();
    server.wss.on('connection', (socket) => {
      hooks.onConnection?.(socket);
      socket.on('message', (data, isBinary) => hooks.onMessage?.(socket, isBinary ? (data as Buffer) : (data as Buffer).toString(), isBinary));
    });
    cleanups.push(() => server.close());
    return { server, hooks };
  }

  function pool(logic = nostrAuthLogic, handshakeTimeout = 5000): { pool: Pool; events: PoolEvent[] } {
    const created = createPool({ handshakeTimeout, workerFactory: workerFromMachine(logic), retry: { initialDelay: 10_000, maxDelay: 10_000 } });
    const events: PoolEvent[] = [];
    created.actor.on('*', (event) => void events.push({ ...event, kind: event.type } as unknown as PoolEvent));
    cleanups.push(() => created.close());
    return { pool: created, events };
  }

  it('connects after a verified NIP-42 AUTH and keeps the handshake frames out of the inbox', async () => {
    const { server, hooks } = await relay();
    const { pool: p, events } = pool();
    const id = p.connect(server.url);
    const socket = await server.nextConnection();
    await expect.poll(() => events.map((event) => event.kind)).toEqual(['connected']);
    expect(hooks.authenticated).toBe(1);
    socket.send('["EVENT","sub",{"content":"hello"}]');
    const iterator = p.inbox[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ id, data: '["EVENT","sub",{"content":"hello"}]' });
    expect(p.stats().totalReceived).toBe(1);
    expect(p.peerStats(id).received).toBe(1);
  });

  it('refuses send() while the socket is open but the handshake is not done, then counts a failed dial on handshakeTimeout', async () => {
    const { server } = await relay({ ...nostrAuthPeer(), onMessage: () => true }); // never answers OK
    const { pool: p, events } = pool(nostrAuthLogic, 300);
    const id = p.connect(server.url);
    await server.nextConnection();
    await expect.poll(() => p.peerStats(id).bytesIn).toBeGreaterThan(0);
    expect(() => p.send(id, 'too early')).toThrow(expect.objectContaining({ code: ErrorCodes.CONNECTION_UNAVAILABLE }));
    expect(p.peerStats(id)).toMatchObject({ state: 'dialing', connected: false, received: 0 });
    // The first retry is immediate; after the second timeout the worker waits out its backoff.
    await expect
      .poll(() => events.filter((event) => event.kind === 'dial_failed'))
      .toEqual([
        expect.objectContaining({ attempt: 1, error: 'handshake not done within 300 ms of the socket opening' }),
        expect.objectContaining({ attempt: 2, error: 'handshake not done within 300 ms of the socket opening' })
      ]);
    expect(p.peerStats(id).state).toBe('backoff');
  });

  it('backs off when the relay rejects the signature', async () => {
    const { server, hooks } = await relay();
    const { pool: p, events } = pool(badSignerLogic);
    const id = p.connect(server.url);
    await expect
      .poll(() => events.find((event) => event.kind === 'dial_failed'))
      .toMatchObject({
        attempt: 1,
        error: 'authentication rejected: auth-required: invalid AUTH event'
      });
    expect(hooks.rejected).toBeGreaterThan(0);
    expect(events.some((event) => event.kind === 'connected')).toBe(false);
    expect(p.peerStats(id).received).toBe(0);
  });
});
