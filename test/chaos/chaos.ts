/**
 * `npm run chaos -- --seed S --duration 600`: one long fault-injection run
 * (or several: `--seeds 1,2,3`, or `--seeds 1-20`), each checked at once.
 * `--check history.jsonl` re-checks a recorded history. A failing run prints
 * its seed and the slices of history that break an invariant, and the
 * process exits 1. Options: --peers 200 --shards 3 --lease 3000
 * --heartbeat 1000 --out chaos-runs --parallel 1 --json summary.json; with
 * --check, --all lists every violation without its slice.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { check, formatReport, summarize, type Report } from './checker.ts';
import { readHistory } from './history.ts';
import { killChaosProcesses, runChaos } from './runner.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    duration: { type: 'string', default: '600' },
    peers: { type: 'string', default: '200' },
    shards: { type: 'string', default: '3' },
    lease: { type: 'string', default: '3000' },
    heartbeat: { type: 'string', default: '1000' },
    out: { type: 'string', default: 'chaos-runs' },
    parallel: { type: 'string', default: '1' },
    check: { type: 'string' },
    all: { type: 'boolean', default: false },
    json: { type: 'string' }
  }
});

function seedsOf(): number[] {
  if (values.seeds !== undefined) {
    return values.seeds.split(',').flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      return b === undefined ? [a as number] : Array.from({ length: b - (a as number) + 1 }, (_, i) => (a as number) + i);
    });
  }
  return [Number(values.seed ?? Math.floor(Math.random() * 1e6))];
}

if (values.check !== undefined) {
  const report = check(readHistory(values.check));
  console.log(formatReport(report, values.all ? { maxViolations: Infinity, maxSlice: 0 } : {}));
  process.exit(report.violations.length === 0 ? 0 : 1);
}

// Ctrl-C (or a CI's SIGTERM) ends every process a run started: nats-server does not follow its parent.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChaosProcesses();
    process.exit(130);
  });
}
mkdirSync(values.out, { recursive: true });
const reports: Report[] = [];
const queue = seedsOf();
const one = async (seed: number): Promise<void> => {
  const out = join(values.out, `seed-${seed}.jsonl`);
  await runChaos({
    seed,
    duration: Number(values.duration) * 1000,
    peers: Number(values.peers),
    shards: Number(values.shards),
    leaseTtl: Number(values.lease),
    heartbeat: Number(values.heartbeat),
    out,
    log: (line) => console.log(line)
  });
  const report = check(readHistory(out));
  reports.push(report);
  console.log(formatReport(report));
  console.log(
    `seed ${seed}: history in ${out}; replay with npm run chaos -- --seed ${seed} --duration ${values.duration}; re-check with npm run chaos -- --check ${out}`
  );
};
await Promise.all(
  Array.from({ length: Math.max(1, Number(values.parallel)) }, async () => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) await one(seed);
  })
);
if (values.json !== undefined)
  writeFileSync(
    values.json,
    JSON.stringify(
      reports.map(({ violations, ...rest }) => ({ ...rest, violations: violations.map(({ slice: _slice, ...v }) => v) })),
      null,
      2
    )
  );
console.log(`\n${summarize(reports)}`);
const failed = reports.filter((report) => report.violations.length > 0);
console.log(`\n${reports.length} run(s), ${failed.length} with violations${failed.length > 0 ? `: seeds ${failed.map((r) => r.seed).join(', ')}` : ''}`);
process.exit(failed.length === 0 ? 0 : 1);
