import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, InvalidOptionError, ShardModuleError, ShardProcessError } from '../../src/errors.ts';
import { createShardedPool, type ShardedPool } from '../../src/shards/index.ts';
import { spawnWorker } from '../../src/shards/spawn-thread.ts';
import type { ContractResult } from '../../src/testkit/index.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { SequenceChecker, startSequenceServer, waitUntil, type SequenceServer } from '../helpers/sequence-server.ts';
import type { ParsedFrame } from './fixtures/parse-shard.ts';

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url);

/** Collects a pool's connected peers. */
function connectedSet(pool: ShardedPool<unknown>): { ids: Set<string>; done: Promise<void> } {
  const ids = new Set<string>();
  const done = (async () => {
    for await (const event of pool.events) {
      if (event.kind === 'connected') ids.add(event.id);
      else if (event.kind === 'disconnected') ids.delete(event.id);
    }
  })();
  return { ids, done };
}

describe('a shard module', () => {
  let server: SequenceServer;

  beforeAll(async () => {
    server = await startSequenceServer({ paths: 6, intervalMs: 5 });
  });

  afterAll(async () => {
    await server.close();
  });

  it('runs `process` in each thread: what it returns is what crosses, and its logger reaches the main thread', async () => {
    const { logger, lines } = captureLogger('info');
    const pool = createShardedPool<ParsedFrame>({ shards: 2, module: fixture('parse-shard.ts'), logger });
    // Peers on both threads: the server's port is new each run, and six URLs land on one thread 1 time in 32.
    const base = (server.urls[0] as string).replace(/\/p0$/, '');
    const urls: string[] = [];
    for (let i = 0; urls.length < 6 || new Set(urls.map((url) => pool.shardOf(url))).size < 2; i++) urls.push(`${base}/m${i}`);
    for (const url of urls) pool.connect(url);
    const values: ParsedFrame[] = [];
    const reading = (async () => {
      for await (const batch of pool.inbox.batches()) values.push(...batch);
    })();
    // Both threads' frames: one thread can be well ahead of the other while its module loads.
    const shards = (): Set<string> => new Set(values.map((value) => value.shard));
    await waitUntil(() => values.length >= 300 && shards().size === 2, 15_000, 'parsed frames from both threads');
    await pool.close();
    await reading;
    // Parsed in the thread: plain objects with the owning shard's name, only the even frames.
    for (const value of values) {
      expect(Object.keys(value).sort()).toEqual(['id', 'seq', 'shard']);
      expect(value.seq % 2).toBe(0);
      expect(value.shard).toBe(pool.shardOf(value.id));
    }
    expect(new Set(values.map((value) => value.shard))).toEqual(new Set(['t0', 't1']));
    const logged = lines.map((line) => JSON.parse(line) as { msg?: string; shard?: string; first?: number }).filter((line) => line.msg === 'parse shard running');
    expect(logged.map((line) => line.shard).sort()).toEqual(['t0', 't1']);
    expect(logged.every((line) => typeof line.first === 'number')).toBe(true);
    expect(pool.stats().processErrors).toBe(0);
  });

  it('a `process` that throws: each batch is dropped, counted and reported as ShardProcessError; the thread keeps running', async () => {
    const errors: ShardProcessError[] = [];
    const pool = createShardedPool({ shards: 1, module: fixture('throwing-shard.ts'), onProcessError: (error) => errors.push(error) });
    const seen = connectedSet(pool);
    for (const url of server.urls) pool.connect(url);
    let crossed = 0;
    const reading = (async () => {
      for await (const batch of pool.inbox.batches()) crossed += batch.length;
    })();
    await waitUntil(() => errors.length >= 5 && seen.ids.size === server.urls.length, 10_000, 'failed batches');
    await pool.close();
    await Promise.all([reading, seen.done]);
    expect(crossed).toBe(0);
    expect(errors[0]).toBeInstanceOf(ShardProcessError);
    expect(errors[0]).toMatchObject({ code: ErrorCodes.SHARD_PROCESS, shard: 't0', fate: 'dropped' });
    expect(errors[0]?.message).toMatch(/threw no parser for this.*dropped/);
    const stats = pool.stats();
    expect(stats.processErrors).toBe(errors.length);
    expect(stats.processDropped).toBe(errors.reduce((sum, error) => sum + error.messages, 0));
    expect(stats.shards[0]?.restarts).toBe(0);
  });

  it("`failedBatch: 'pass'`: a non-array, or values that cannot be cloned, send the batch on unprocessed", async () => {
    const errors: ShardProcessError[] = [];
    const pool = createShardedPool<unknown>({ shards: 1, module: fixture('bad-value-shard.ts'), onProcessError: (error) => errors.push(error) });
    for (const url of server.urls) pool.connect(url);
    const checker = new SequenceChecker();
    const reading = (async () => {
      for await (const batch of pool.inbox.batches()) for (const message of batch as Array<{ id: string; data: string }>) checker.take(message.id, message.data);
    })();
    await waitUntil(() => errors.length >= 4 && checker.frames > 100, 10_000, 'passed batches');
    await pool.close();
    await reading;
    expect(errors.every((error) => error.fate === 'passed')).toBe(true);
    expect(errors.some((error) => /returned "not an array", not an array/.test(error.reason))).toBe(true);
    expect(errors.some((error) => /cannot cross/.test(error.reason))).toBe(true);
    // Every failed batch crossed whole: no frame is missing inside any connection.
    expect(checker.gaps).toBe(0);
    expect(pool.stats().processDropped).toBe(0);
  });

  it('a module that cannot be used: started() rejects with ShardModuleError and the pool closes', async () => {
    for (const module of [fixture('not-a-shard.ts'), fixture('missing-shard.ts')]) {
      const pool = createShardedPool({ shards: 2, module });
      const error = await pool.started().then(
        () => undefined,
        (thrown: unknown) => thrown
      );
      expect(error).toBeInstanceOf(ShardModuleError);
      expect((error as ShardModuleError).module).toBe(module.href);
      await pool.close();
      expect(() => pool.connect(server.urls[0] as string)).toThrow(/closed/);
    }
    expect(() => createShardedPool({ shards: 1, module: 'relative/shard.js' })).toThrow(InvalidOptionError);
  });

  it('runs a custom worker machine in the threads (the probe example sends its probes)', async () => {
    const pool = createShardedPool({ shards: 2, module: fixture('probe-shard.ts'), pingInterval: 50, keepaliveTimeout: 2000 });
    const seen = connectedSet(pool);
    for (const url of server.urls) pool.connect(url);
    const checker = new SequenceChecker();
    const reading = (async () => {
      for await (const batch of pool.inbox.batches()) for (const { id, data } of batch) checker.take(id, data);
    })();
    // The sequence server echoes what it receives: the probe frames come back as echoes.
    const probed = (): number => server.urls.filter((url) => server.echoes.get(new URL(url).pathname)?.includes('["PROBE"]')).length;
    await waitUntil(() => probed() === server.urls.length && checker.echoes.length >= server.urls.length, 10_000, 'probes from every peer');
    await pool.close();
    await Promise.all([reading, seen.done]);
    expect(checker.gaps).toBe(0);
  });
});

describe('the conformance kit in a thread', () => {
  it('passes for a custom worker machine loaded from a shard module, as a shard thread loads it', async () => {
    const worker = spawnWorker(fixture('kit-thread.ts'), { module: fixture('probe-shard.ts').href });
    const results = await new Promise<ContractResult[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    const failed = results.filter((result) => !result.ok);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThan(5);
  }, 60_000);
});
