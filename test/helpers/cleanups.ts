import { afterEach } from 'vitest';
import { createPool } from '../../src/node.ts';
import type { Pool } from '../../src/pool.ts';
import type { PoolOptions } from '../../src/types.ts';
import { startServer, type TestServer } from './servers.ts';

/**
 * Things a test starts and the file closes after each test, newest first.
 * Call at the top of a test file: it registers the `afterEach` itself.
 */
export function useCleanups(): {
  defer(cleanup: () => Promise<unknown>): void;
  server(): Promise<TestServer>;
  pool(options: PoolOptions): Pool;
} {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    defer: (cleanup) => void cleanups.push(cleanup),
    async server() {
      const started = await startServer();
      cleanups.push(() => started.close());
      return started;
    },
    pool(options) {
      const created = createPool(options);
      cleanups.push(() => created.close());
      return created;
    }
  };
}
