/**
 * The fault matrix in `npm test`: three seeded schedules, run side by side,
 * that between them inject every fault kind once (leaseTtl 3 s, heartbeat
 * 1 s, 40 peers, 3 shard processes each), and the checker's verdict on each
 * history. A failure prints the seed and the slices of history that break
 * an invariant; `npm run chaos -- --check <file>` re-checks a kept history.
 * Long schedules: `npm run chaos -- --seed S --duration 600`.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findNatsServer } from '../helpers/nats-server.ts';
import { check, formatReport } from './checker.ts';
import { readHistory } from './history.ts';
import { killChaosProcesses, runChaos } from './runner.ts';
import { FAULT_KINDS, makeSchedule, type FaultKind } from './schedule.ts';

const binary = findNatsServer();
if (binary === undefined) console.warn('skipping the chaos suite: nats-server is not installed (apt-get install nats-server)');

/** The CI seeds and the kinds each one injects (in an order its seed draws). */
const CI: ReadonlyArray<{ seed: number; kinds: FaultKind[] }> = [
  { seed: 1, kinds: ['rolling-restart', 'nats-term-short', 'nats-slow'] },
  { seed: 2, kinds: ['nats-term-long', 'nats-kill-mid', 'shard-pause', 'shard-cut', 'shard-join'] },
  { seed: 3, kinds: ['nats-term-mid', 'nats-kill-short', 'nats-kill-long', 'shard-kill9', 'shard-freeze'] }
];
const LEASE = { leaseTtl: 3000, heartbeat: 1000 };

describe('the chaos schedule', () => {
  it('is the same for the same seed, and the CI seeds use every fault kind', () => {
    const a = makeSchedule({ seed: 42, duration: 300_000, ...LEASE });
    expect(makeSchedule({ seed: 42, duration: 300_000, ...LEASE })).toEqual(a);
    expect(makeSchedule({ seed: 43, duration: 300_000, ...LEASE })).not.toEqual(a);
    expect(new Set(a.map((fault) => fault.kind))).toEqual(new Set(FAULT_KINDS));
    expect(new Set(CI.flatMap(({ kinds }) => kinds))).toEqual(new Set(FAULT_KINDS));
  });
});

describe.skipIf(binary === undefined)('the cluster under the fault matrix', () => {
  afterAll(() => killChaosProcesses());
  it('keeps every invariant through every fault kind (three seeded schedules)', async () => {
    const runs = await Promise.all(
      CI.map(({ seed, kinds }) =>
        runChaos({ seed, kinds, duration: 0, peers: 40, shards: 3, ...LEASE, settleGap: 500, out: join(tmpdir(), `honeybee-chaos-${process.pid}-${seed}.jsonl`) })
      )
    );
    for (const run of runs) {
      const report = check(readHistory(run.out));
      console.log(formatReport(report, { maxViolations: 3, maxSlice: 20 }).split('\n\n')[0]);
      expect(report.violations, `${formatReport(report, { maxViolations: 5 })}\n(history kept in ${run.out})`).toEqual([]);
      expect(report.doubles).toBe(0);
      rmSync(run.out, { force: true });
    }
  }, 60_000);
});
