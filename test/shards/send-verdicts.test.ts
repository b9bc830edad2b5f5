import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { BackpressureError, ConnectionUnavailableError, ErrorCodes, HoneybeeError, InvalidPayloadError, PeerNotFoundError, PoolClosedError } from '../../src/errors.ts';
import { createShardedPool, type ShardedPool } from '../../src/shards/index.ts';

/** Settles `promise` into what it resolved or the error it rejected with. */
const outcome = (promise: Promise<void>): Promise<unknown> =>
  promise.then(
    () => 'sent',
    (error: unknown) => error
  );

describe('sendAsync: the fate of a send made in a thread', () => {
  let server: WebSocketServer;
  let url: string;
  let pool: ShardedPool;
  const received: number[] = [];

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (socket) => socket.on('message', (data: Buffer) => received.push(data.length)));
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    pool = createShardedPool({ shards: 2, sendHighWaterMark: 1024 });
    url = pool.connect(url);
    await pool.ready(url, { timeout: 10_000 });
  });

  afterAll(async () => {
    await pool.close();
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('resolves once the thread’s pool took the frame', async () => {
    await pool.sendAsync(url, 'hello');
    await expect.poll(() => received.includes(5)).toBe(true);
  });

  it('rejects, never throws, with what the main thread can tell: unknown peer, bad payload', async () => {
    const unknown = pool.sendAsync('ws://127.0.0.1:1/nobody', 'x');
    expect(await outcome(unknown)).toBeInstanceOf(PeerNotFoundError);
    expect(await outcome(pool.sendAsync(url, 42 as never))).toBeInstanceOf(InvalidPayloadError);
  });

  it('rejects with the error the thread’s pool threw (BackpressureError, its class, code and fields), where send() only counts it', async () => {
    const failuresBefore = pool.stats().commandFailures;
    // One command batch: the first frame is far more than the socket can write at once, so the second finds it backed up.
    const big = new Uint8Array(16 * 1024 * 1024);
    const [first, second] = await Promise.all([outcome(pool.sendAsync(url, big)), outcome(pool.sendAsync(url, 'after'))]);
    expect(first).toBe('sent');
    expect(second).toBeInstanceOf(BackpressureError);
    expect(second).toBeInstanceOf(HoneybeeError);
    const error = second as BackpressureError;
    expect(error.code).toBe(ErrorCodes.BACKPRESSURE);
    expect(error.peer).toBe(url);
    expect(error.bufferedAmount).toBeGreaterThan(1024);
    expect(error.message).toMatch(/bytes are already waiting \(sendHighWaterMark 1024\)/);
    expect(pool.stats().commandFailures).toBe(failuresBefore + 1);
    await expect.poll(() => received.includes(big.length), { timeout: 10_000 }).toBe(true);
  });

  it('rejects a send in flight when its thread dies with ConnectionUnavailableError', async () => {
    const shard = pool.shardOf(url);
    const pending = outcome(pool.sendAsync(url, 'doomed'));
    // Terminated before the command batch is even posted (it goes out on a microtask).
    void pool.thread(shard)?.terminate();
    const error = await pending;
    expect(error).toBeInstanceOf(ConnectionUnavailableError);
    expect((error as Error).message).toMatch(/shard thread exited/);
    await pool.ready(url, { timeout: 10_000 });
    await pool.sendAsync(url, 'back');
  });

  it('rejects with PoolClosedError once the pool is closed', async () => {
    const closing = pool.close();
    expect(await outcome(pool.sendAsync(url, 'late'))).toBeInstanceOf(PoolClosedError);
    await closing;
  });
});
