import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createShardedPool } from '../../src/shards/index.ts';
import type { InboxMessage } from '../../src/types.ts';

const FRAMES = 2000;
const text = (n: number): string => `héllo ✓ ${n} ${'x'.repeat(n % 50)}`;
const binary = (n: number): Uint8Array => Uint8Array.of(n & 0xff, 0, 255, (n >> 8) & 0xff);

describe('frames crossing from a thread', () => {
  let server: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    // Text and binary frames alternate, non-ASCII text included, as fast as the socket takes them.
    server.on('connection', (socket) => {
      for (let n = 0; n < FRAMES; n++) socket.send(n % 2 === 0 ? text(n) : binary(n), { binary: n % 2 === 1 });
    });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    ['undecoded, in one transferred buffer (default worker, no process)', undefined],
    ['as strings, column by column (a module with a process)', new URL('./fixtures/identity-shard.ts', import.meta.url)]
  ])('keeps every frame whole, typed and in order: %s', async (_name, module) => {
    const pool = createShardedPool({ shards: 1, maxBatch: 64, ...(module === undefined ? {} : { module }) });
    const id = pool.connect(url);
    const got: InboxMessage[] = [];
    for await (const batch of pool.inbox.batches()) {
      got.push(...batch);
      if (got.length >= FRAMES) break;
    }
    await pool.close();
    expect(got.length).toBe(FRAMES);
    got.forEach((message, n) => {
      expect(message.id).toBe(id);
      expect(typeof message.receivedAt).toBe('number');
      if (n % 2 === 0) expect(message.data).toBe(text(n));
      else {
        expect(message.data).toBeInstanceOf(Uint8Array);
        expect([...(message.data as Uint8Array)]).toEqual([...binary(n)]);
      }
    });
  });
});
