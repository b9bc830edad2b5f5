import { beforeAll, describe, it } from 'vitest';
import { plannedChecks } from './checks.ts';
import { checkWorkerContract } from './index.ts';
import type { ContractOptions, ContractResult, ContractTarget } from './types.ts';

/**
 * Registers the worker contract checks as a vitest suite: the kit runs once
 * before the suite, then every check is one test (skipped checks show as
 * skipped, with their reason in the title). vitest is an optional peer
 * dependency of honeybee, so this lives in its own entry point.
 *
 * @example
 * ```ts
 * import { describeWorkerContract } from 'honeybee-pool/testkit/vitest';
 *
 * describeWorkerContract('my worker', myWorkerFactory);
 * ```
 */
export function describeWorkerContract(name: string, target: ContractTarget, options: ContractOptions = {}): void {
  describe(name, () => {
    let results: ContractResult[] = [];
    beforeAll(async () => {
      results = await checkWorkerContract(target, options);
    }, 120_000);
    for (const check of plannedChecks(options)) {
      if (check.skipped !== undefined) {
        it.skip(`${check.name} (skipped: ${check.skipped})`, () => {});
        continue;
      }
      it(check.name, () => {
        const result = results.find((item) => item.id === check.id);
        if (result === undefined) throw new Error(`the kit returned no result for ${check.id}`);
        if (!result.ok) throw new Error(`${check.id}: ${result.error ?? 'failed'}`);
      });
    }
  });
}
