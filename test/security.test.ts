import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { WebSocket as ServerSocket } from 'ws';
import { BackpressureError, ConnectionUnavailableError, HoneybeeError, ReadLimitError } from '../src/errors.ts';
import { redactUrl } from '../src/normalize-url.ts';
import { createPool } from '../src/node.ts';
import {
  Opcode,
  frame,
  rawSocketOf,
  startHttpStatusServer,
  startHugeFrameServer,
  startInvalidUtf8Server,
  startScriptedServer,
  writeRaw
} from './helpers/hostile-servers.ts';
import { refusedUrl, startHungServer, startServer, type TestServer } from './helpers/servers.ts';
import { startTlsServer } from './helpers/tls-server.ts';
import { captureLogger } from './helpers/capture-logger.ts';
import { thrown } from './helpers/thrown.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';

// Credentials stay out of every log line, event and error; the read limit and
// the send high-water mark hold against peers that push or stall. (pool.test.ts
// covers the basic logging case: one password, one Authorization header.)

const { logged, track } = usePoolFixture({ minUptime: 0 });

function caught(fn: () => unknown): HoneybeeError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(HoneybeeError);
  return error as HoneybeeError;
}

/** Every way an error can end up as text: message, stack, String(), JSON, own fields; the same for its cause. */
function errorTexts(error: HoneybeeError): string[] {
  const texts = [error.message, String(error.stack), String(error), JSON.stringify(error), JSON.stringify({ ...error })];
  return error.cause instanceof HoneybeeError ? [...texts, ...errorTexts(error.cause)] : texts;
}

describe('credentials', () => {
  it('URL passwords, query values and Authorization, Proxy-Authorization and Cookie values never reach a log line (trace), an event, peer stats or an error', async () => {
    const SECRETS = {
      poolAuth: 'POOL-AUTH-TOKEN-1',
      poolCookie: 'POOL-COOKIE-2',
      goodPw: 'PW-GOOD-3',
      peerAuth: 'PEER-AUTH-4',
      proxyAuth: 'PROXY-AUTH-5',
      peerCookie: 'PEER-COOKIE-6',
      refusedPw: 'PW-REFUSED-7',
      httpPw: 'PW-HTTP401-8',
      tlsPw: 'PW-TLS-9',
      hungPw: 'PW-HUNG-10',
      utf8Pw: 'PW-UTF8-11',
      notFoundPw: 'PW-NOTFOUND-12',
      badHeader: 'BAD-HEADER-13',
      badCookie: 'BAD-COOKIE-14',
      badUrlPw: 'PW-BADURL-15',
      queryToken: 'QUERY-TOKEN-16',
      queryAuth: 'QUERY-AUTH-17',
      queryKey: 'QUERY-KEY-18',
      queryRefused: 'QUERY-REFUSED-19',
      queryBare: 'QUERY-BARE-20',
      queryBadUrl: 'QUERY-BADURL-21'
    };
    const { logger, lines } = captureLogger('trace');
    const good = track(await startServer());
    const seenHeaders: Array<Record<string, unknown>> = [];
    let goodConnections = 0;
    good.wss.on('connection', (socket, request) => {
      seenHeaders.push(request.headers);
      // The first connection is closed by the server, so a disconnected event is logged too.
      if (++goodConnections === 1) socket.close(4000, 'again');
      else socket.send('data');
    });
    const http401 = track(await startHttpStatusServer(401));
    const tls = track(await startTlsServer());
    const hung = track(await startHungServer());
    const utf8 = track(await startInvalidUtf8Server());
    const refused = await refusedUrl();
    const withCredentials = (url: string, user: string, pw: string): string => url.replace('://', `://${user}:${pw}@`);

    const {
      pool,
      log: { items: events }
    } = logged({
      id: 'secure-pool',
      logger,
      handshakeTimeout: 200,
      headers: { Authorization: `Bearer ${SECRETS.poolAuth}`, Cookie: `sid=${SECRETS.poolCookie}` },
      retry: { initialDelay: 50, maxDelay: 50 }
    });
    const goodId = pool.connect(withCredentials(`${good.url}/good?token=${SECRETS.queryToken}&auth=${SECRETS.queryAuth}`, 'alice', SECRETS.goodPw), {
      // The pool's 200 ms is for the hung peer; on a loaded machine the good peer's handshake can take longer,
      // and a timed-out first dial would leave it one `connected` short.
      handshakeTimeout: 5000,
      headers: {
        authorization: `Bearer ${SECRETS.peerAuth}`,
        'Proxy-Authorization': `Basic ${SECRETS.proxyAuth}`,
        COOKIE: `c=${SECRETS.peerCookie}`
      }
    });
    const ids = [
      goodId,
      pool.connect(withCredentials(`${refused}/refused?key=${SECRETS.queryRefused}`, 'bob', SECRETS.refusedPw)),
      pool.connect(withCredentials(`${http401.url}/?apikey=${SECRETS.queryKey}&${SECRETS.queryBare}`, 'carol', SECRETS.httpPw)),
      pool.connect(withCredentials(tls.url, 'dave', SECRETS.tlsPw)),
      pool.connect(withCredentials(hung.url, 'erin', SECRETS.hungPw)),
      pool.connect(withCredentials(utf8.url, 'frank', SECRETS.utf8Pw))
    ];
    // Generous waits: this test starts six peers at once and ran past the 1 s default on a loaded machine.
    await expect.poll(() => events.filter((e) => e.kind === 'connected' && e.id === goodId).length, { timeout: 5000 }).toBe(2);
    await expect.poll(() => new Set(events.filter((e) => e.kind === 'dial_failed').map((e) => e.id)).size, { timeout: 5000 }).toBe(4);
    await expect.poll(() => events.some((e) => e.kind === 'disconnected' && e.cause === 'remote_error'), { timeout: 5000 }).toBe(true);
    // The headers really went out, with the user's letter case.
    expect(seenHeaders[0]).toMatchObject({ authorization: `Bearer ${SECRETS.peerAuth}`, cookie: `c=${SECRETS.peerCookie}` });

    const errors = [
      caught(() => pool.connect(withCredentials(`${good.url}/good/?token=${SECRETS.queryToken}&auth=${SECRETS.queryAuth}`, 'alice', SECRETS.goodPw))), // PeerExistsError
      caught(() => pool.send(ids[4] as string, 'x')), // ConnectionUnavailableError (dialing)
      caught(() => pool.send(withCredentials(`${good.url}/none`, 'x', SECRETS.notFoundPw), 'x')), // PeerNotFoundError
      caught(() => pool.remove(withCredentials(`${good.url}/none`, 'x', SECRETS.notFoundPw))),
      caught(() => pool.peerStats(withCredentials(`${good.url}/none`, 'x', SECRETS.notFoundPw))),
      caught(() => pool.send(goodId, 42 as never)), // InvalidPayloadError
      caught(() => pool.connect(`${good.url}/h1`, { headers: { Authorization: `Bearer ${SECRETS.badHeader}\r\n` } })),
      caught(() => pool.connect(`${good.url}/h2`, { headers: { Cookie: `x=${SECRETS.badCookie}\u20ac` } })),
      caught(() => createPool({ headers: { 'proxy-authorization': `${SECRETS.badHeader}\n` } })),
      caught(() => pool.connect(`http://u:${SECRETS.badUrlPw}@example.com`)), // InvalidUrlError
      caught(() => pool.connect(`ws://u:${SECRETS.badUrlPw}@bad host`)),
      caught(() => pool.connect(`http://example.com/?token=${SECRETS.queryBadUrl}`)), // InvalidUrlError
      caught(() => pool.send(`${good.url}/none?token=${SECRETS.queryToken}`, 'x')), // PeerNotFoundError
      caught(() => pool.reconnect(`${good.url}/none?auth=${SECRETS.queryAuth}`)),
      caught(() => pool.broadcast(42 as never, () => true)) // InvalidPayloadError
    ];
    // Peers whose dials fail (refused, HTTP 401, TLS): a send names the dial error as its cause.
    const afterFailedDials = [ids[1], ids[2], ids[3]].map((failing) => caught(() => pool.send(failing as string, 'x')));
    expect(afterFailedDials.map((e) => [e.name, (e.cause as Error | undefined)?.name])).toEqual(Array(3).fill(['ConnectionUnavailableError', 'DialFailedError']));
    errors.push(...afterFailedDials);
    expect(errors.map((e) => e.name)).toEqual([
      'PeerExistsError',
      'ConnectionUnavailableError',
      'PeerNotFoundError',
      'PeerNotFoundError',
      'PeerNotFoundError',
      'InvalidPayloadError',
      'InvalidOptionError',
      'InvalidOptionError',
      'InvalidOptionError',
      'InvalidUrlError',
      'InvalidUrlError',
      'InvalidUrlError',
      'PeerNotFoundError',
      'PeerNotFoundError',
      'InvalidPayloadError',
      'ConnectionUnavailableError',
      'ConnectionUnavailableError',
      'ConnectionUnavailableError'
    ]);
    const stats = pool.stats();
    // ready() gives up with an error that names the peer the same way.
    errors.push(
      ...(await Promise.all(
        [ids[1], ids[2]].map((failing) =>
          pool.ready(failing as string, { timeout: 1 }).then(
            () => {
              throw new Error('ready resolved');
            },
            (e: HoneybeeError) => e
          )
        )
      ))
    );
    await pool.close();
    errors.push(caught(() => pool.connect(withCredentials(good.url, 'z', SECRETS.goodPw)))); // PoolClosedError

    const kinds = new Set(events.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['connected', 'dial_failed', 'disconnected']);
    expect(lines.length).toBeGreaterThan(10);
    const secrets = Object.values(SECRETS);
    const leaks = (text: string): string[] => secrets.filter((secret) => text.includes(secret));
    for (const line of lines) expect(leaks(line), line).toEqual([]);
    for (const error of errors) {
      for (const text of errorTexts(error)) expect(leaks(text), text).toEqual([]);
    }
    // An event's `id` is the id connect() returned to the caller (credentials included, as
    // normalizeUrl keeps them to dial); everything else an event says must be clean.
    for (const event of events) {
      expect(ids).toContain(event.id);
      const { id: _id, ...rest } = event;
      expect(leaks(JSON.stringify(rest)), JSON.stringify(rest)).toEqual([]);
    }
    for (const peer of stats.peers) {
      const { id: _id, ...rest } = peer;
      expect(leaks(JSON.stringify(rest)), JSON.stringify(rest)).toEqual([]);
    }
    // The credential-free label is what logs show for each peer.
    const peers = new Set(lines.map((line) => (JSON.parse(line) as { peer?: string }).peer).filter(Boolean));
    expect(peers).toContain(`ws://***:***@127.0.0.1:${good.port}/good?token=***&auth=***`);
    expect(peers).toContain(`${redactUrl(http401.url).replace('://', '://***:***@')}?apikey=***&***`);
    // The id keeps the query (the handshake needs it): the server saw the token.
    expect(goodId).toContain(SECRETS.queryToken);
  });
});

describe('readLimit', () => {
  it.each([
    ['exactly readLimit bytes', 1024, 1024, 'delivered'],
    ['one byte above readLimit', 1024, 1025, 'read_limit'],
    ['2 KiB with a per-peer readLimit of 1 KiB', 1024, 2048, 'read_limit'],
    ['1 MiB with readLimit 0 (unlimited), above the 512 KiB default', 0, 1024 * 1024, 'delivered']
  ] as const)('%s: %s', async (_label, readLimit, size, outcome) => {
    const server = track(await startServer());
    server.wss.on('connection', (socket) => socket.send(Buffer.alloc(size, 0x61), { binary: true }));
    const {
      pool,
      log: { items: events }
    } = logged({ reconnectDelay: 10_000 });
    const inbox: Array<string | Uint8Array> = [];
    void (async () => {
      for await (const message of pool.inbox) inbox.push(message.data);
    })();
    const id = pool.connect(server.url, { readLimit });

    if (outcome === 'delivered') {
      await expect.poll(() => inbox.length).toBe(1);
      expect((inbox[0] as Uint8Array).byteLength).toBe(size);
      expect(events.map((e) => e.kind)).toEqual(['connected']);
    } else {
      await expect.poll(() => events.map((e) => e.kind)).toEqual(['connected', 'disconnected']);
      expect(events[1]).toMatchObject({ id, cause: 'read_limit', code: 1009 });
      expect(inbox).toEqual([]);
      // Until it reconnects, a send says why the peer is down.
      const refused = thrown(() => pool.send(id, 'x'));
      expect(refused).toBeInstanceOf(ConnectionUnavailableError);
      expect((refused as Error).cause).toBeInstanceOf(ReadLimitError);
      expect((refused as Error).cause).toMatchObject({ code: 'HONEYBEE_ERR_READ_LIMIT', readLimit });
    }
  });

  it('counts the whole message, not each fragment: 8 fragments of 200 bytes under a 1 KiB limit end in read_limit, nothing delivered', async () => {
    const hostile = track(
      await startScriptedServer((socket) => {
        const frames: Buffer[] = [];
        for (let i = 0; i < 8; i++) frames.push(frame(i === 0 ? Opcode.text : Opcode.continuation, 'x'.repeat(200), i === 7));
        writeRaw(socket, Buffer.concat(frames));
      })
    );
    const {
      pool,
      log: { items: events }
    } = logged({ readLimit: 1024, reconnectDelay: 10_000 });
    let delivered = 0;
    void (async () => {
      for await (const _ of pool.inbox) delivered++;
    })();
    pool.connect(hostile.url);
    await expect.poll(() => events.map((e) => e.kind)).toEqual(['connected', 'disconnected']);
    expect(events[1]).toMatchObject({ cause: 'read_limit', code: 1009 });
    expect(delivered).toBe(0);
  });

  it('refuses a frame announcing 1 TiB from its header alone, without buffering, while a bystander keeps working', async () => {
    const hostile = track(await startHugeFrameServer(2 ** 40));
    const bystander = track(await startServer());
    let bystanderSocket: ServerSocket | undefined;
    bystander.wss.on('connection', (socket) => (bystanderSocket = socket));
    const {
      pool,
      log: { items: events }
    } = logged({ reconnectDelay: 10_000 });
    const inbox: string[] = [];
    void (async () => {
      for await (const message of pool.inbox) inbox.push(String(message.data));
    })();
    const before = process.memoryUsage().rss;
    const otherId = pool.connect(bystander.url);
    const id = pool.connect(hostile.url);

    await expect.poll(() => events.filter((e) => e.id === id).map((e) => e.kind)).toEqual(['connected', 'disconnected']);
    expect(events.find((e) => e.kind === 'disconnected')).toMatchObject({ id, cause: 'read_limit', code: 1009 });
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    await expect.poll(() => bystanderSocket).toBeDefined();
    bystanderSocket?.send('fine');
    await expect.poll(() => inbox).toEqual(['fine']);
    expect(events.filter((e) => e.id === otherId).map((e) => e.kind)).toEqual(['connected']);
  });
});

describe('sendHighWaterMark', () => {
  it('applies per peer: a 64 KiB peer is refused while a default (16 MiB) peer to an equally stalled server still accepts', async () => {
    const servers = [track(await startServer()), track(await startServer())] as [TestServer, TestServer];
    const stalled = servers.map(
      (server) =>
        new Promise<net.Socket>((resolve) =>
          server.wss.once('connection', (s) => {
            const raw = rawSocketOf(s);
            raw.pause();
            resolve(raw);
          })
        )
    );
    const {
      pool,
      log: { items: events }
    } = logged();
    const small = pool.connect(servers[0].url, { sendHighWaterMark: 64 * 1024 });
    const large = pool.connect(servers[1].url);
    await Promise.all(stalled);
    await expect.poll(() => events.filter((e) => e.kind === 'connected').length).toBe(2);

    const chunk = new Uint8Array(32 * 1024);
    const fill = (id: string, limit: number): { accepted: number; error: unknown } => {
      for (let i = 0; i < limit; i++) {
        try {
          pool.send(id, chunk);
        } catch (error) {
          return { accepted: i, error };
        }
      }
      return { accepted: limit, error: undefined };
    };
    // Loopback kernel buffers take a few MB first; 400 chunks is 12.5 MiB.
    const refused = fill(small, 400);
    const accepted = fill(large, refused.accepted + 32);

    expect(refused.error).toBeInstanceOf(BackpressureError);
    expect(pool.peerStats(small).bufferedAmount).toBeLessThanOrEqual(64 * 1024 + chunk.byteLength + 14);
    expect(accepted.error).toBeUndefined();
    expect(pool.peerStats(large).bufferedAmount).toBeGreaterThan(64 * 1024 + chunk.byteLength);
    expect(pool.stats().totalSent).toBe(refused.accepted + accepted.accepted);
    for (const raw of await Promise.all(stalled)) raw.resume();
  });
});
