import { afterEach } from 'vitest';
import { createPool } from '../../src/node.ts';
import type { Pool } from '../../src/pool.ts';
import type { InboxMessage, PoolOptions } from '../../src/types.ts';
import { EventLog } from './event-log.ts';
import { startServer, type TestServer } from './servers.ts';

/**
 * What every test pool starts from: fast reconnects and a short close, so a
 * test that drops a peer or closes the pool is not waiting on the library's
 * production defaults (2 s, 1 s). Anything else is the library's default
 * unless the file or the test says otherwise.
 */
export const TEST_POOL: PoolOptions = Object.freeze({ reconnectDelay: 20, closeTimeout: 200 });

/** How long one cleanup may take before the file fails with "cleanup hung" instead of at the hook timeout. */
const CLEANUP_BOUND = 5000;

/** Keeps every inbox message, by peer. */
export class InboxLog {
  readonly items: InboxMessage[] = [];

  constructor(source: AsyncIterable<InboxMessage>) {
    void (async () => {
      for await (const message of source) this.items.push(message);
    })();
  }

  of(id: string): Array<string | Uint8Array> {
    return this.items.filter((m) => m.id === id).map((m) => m.data);
  }
}

/** A pool with readers attached: its events in an EventLog; its inbox in an InboxLog from the first read of `inbox`. */
export interface LoggedPool {
  readonly pool: Pool;
  readonly log: EventLog;
  /** Starts reading the inbox when first read: leave it out of a test that reads `pool.inbox` itself (one reader). */
  readonly inbox: InboxLog;
}

export interface PoolFixture {
  /** A pool on `TEST_POOL`, then the file's defaults, then `options`; closed after the test. */
  pool(options?: PoolOptions): Pool;
  /** `pool(options)` with its events (and, on demand, its inbox) read in the background. */
  logged(options?: PoolOptions): LoggedPool;
  /** A local ws server (127.0.0.1, port 0), closed after the test once the pools are closed. */
  server(options?: Parameters<typeof startServer>[0]): Promise<TestServer>;
  /** Closes `resource` after the test, once the pools are closed. */
  track<T extends { close(): unknown }>(resource: T): T;
  /** Runs `cleanup` after the test, once the pools are closed. */
  defer(cleanup: () => unknown): void;
}

/** Settles with `promise`, or throws once `ms` have passed. */
async function bounded(what: string, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cleanup hung for ${CLEANUP_BOUND} ms: ${what}`)), CLEANUP_BOUND);
  });
  try {
    await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The pools and servers of a test file, each closed after every test: the
 * pools first (newest first), then the servers and other resources (newest
 * first), each within 5 s. Call once at the top of a file; it registers its
 * own `afterEach`. vitest runs after-hooks newest first, so an `afterEach` the
 * file registers before this call runs once everything is closed.
 *
 * @example
 * ```ts
 * const { pool, server } = usePoolFixture({ minUptime: 0 });
 * it('connects', async () => {
 *   const srv = await server();
 *   const p = pool();
 *   await p.ready(p.connect(srv.url));
 * });
 * ```
 */
export function usePoolFixture(fileDefaults: PoolOptions = {}): PoolFixture {
  const pools: Pool[] = [];
  const others: Array<() => unknown> = [];
  afterEach(async () => {
    for (const open of pools.splice(0).reverse()) await bounded(`pool ${open.id}`, open.close());
    for (const cleanup of others.splice(0).reverse()) await bounded(String(cleanup), Promise.resolve(cleanup()));
  });
  const pool = (options: PoolOptions = {}): Pool => {
    const created = createPool({ ...TEST_POOL, ...fileDefaults, ...options });
    pools.push(created);
    return created;
  };
  const track = <T extends { close(): unknown }>(resource: T): T => {
    others.push(() => resource.close());
    return resource;
  };
  return {
    pool,
    logged(options) {
      const created = pool(options);
      let inbox: InboxLog | undefined;
      return {
        pool: created,
        log: new EventLog(created.events),
        get inbox() {
          return (inbox ??= new InboxLog(created.inbox));
        }
      };
    },
    server: async (options) => track(await startServer(options)),
    track,
    defer: (cleanup) => void others.push(cleanup)
  };
}
