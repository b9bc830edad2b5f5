import { configDefaults, defineConfig } from 'vitest/config';

// The fault matrix (test/chaos/chaos.test.ts) starts three nats-servers and nine shard processes
// and judges timing: it runs on its own, last. The NATS lease and crash tests judge timing too:
// they run after the rest of the suite and before the matrix, so none of them shares the 2 cores
// with the whole suite. vitest runs projects of a lower groupOrder first.
const ALONE = ['test/chaos/chaos.test.ts'];
const TIMED = ['test/nats/lease.test.ts', 'test/nats/crash.test.ts', 'test/nats/cluster.test.ts', 'test/nats/churn.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...TIMED, ...ALONE], sequence: { groupOrder: 0 } }
      },
      { extends: true, test: { name: 'nats-timed', include: TIMED, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'faults', include: ALONE, sequence: { groupOrder: 2 } } }
    ]
  }
});
