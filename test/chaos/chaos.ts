/**
 * `npm run chaos -- --seed S --duration 600`: one long fault-injection run
 * (or several: `--seeds 1,2,3`, or `--seeds 1-20`), each checked at once.
 * `--check history.jsonl` re-checks a recorded history. A failing run prints
 * its seed and the slices of history that break an invariant, and the
 * process exits 1. Options: --peers 200 --shards 3 --lease 3000
 * --heartbeat 1000 --out chaos-runs --parallel 1 --json summary.json (several
 * seeds run each in a process of its own); with
 * --check, --all lists every violation without its slice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    json: { type: 'string' },
    /** Set by a multi-seed run on each seed's process: its parent prints the summary. */
    child: { type: 'boolean', default: false }
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

/** The seeds' processes (several seeds), ended with this one. */
const children = new Set<ChildProcess>();
// Ctrl-C (or a CI's SIGTERM) ends every process a run started: nats-server does not follow its parent.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    killChaosProcesses();
    process.exit(130);
  });
}
mkdirSync(values.out, { recursive: true });
const queue = seedsOf();

/** Runs one seed here, checks it, prints its report; returns the report. */
const one = async (seed: number): Promise<Report> => {
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
  console.log(formatReport(report));
  console.log(
    `seed ${seed}: history in ${out}; replay with npm run chaos -- --seed ${seed} --duration ${values.duration}; re-check with npm run chaos -- --check ${out}`
  );
  return report;
};

/**
 * Runs one seed in a process of its own. The fault proxies live in the
 * process that runs the seed: a check of another seed (seconds of synchronous
 * work) in the same event loop would freeze them, an unplanned fault.
 */
const inChild = (seed: number): Promise<Report> =>
  new Promise((resolve, reject) => {
    const json = join(values.out, `seed-${seed}.report.json`);
    const args = ['--child', '--seed', String(seed), '--json', json, '--out', values.out];
    for (const name of ['duration', 'peers', 'shards', 'lease', 'heartbeat'] as const) args.push(`--${name}`, String(values[name]));
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit' });
    children.add(child);
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      try {
        resolve((JSON.parse(readFileSync(json, 'utf8')) as Report[])[0] as Report);
      } catch (error) {
        reject(new Error(`seed ${seed}: its process exited ${code} without a report`, { cause: error }));
      }
    });
  });

const reports: Report[] = [];
const single = queue.length === 1;
await Promise.all(
  Array.from({ length: Math.max(1, Number(values.parallel)) }, async () => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) reports.push(await (single ? one(seed) : inChild(seed)));
  })
);
reports.sort((a, b) => (a.seed ?? 0) - (b.seed ?? 0));
if (values.json !== undefined)
  writeFileSync(
    values.json,
    JSON.stringify(
      reports.map(({ violations, ...rest }) => ({ ...rest, violations: violations.map(({ slice: _slice, ...v }) => v) })),
      null,
      2
    )
  );
const failed = reports.filter((report) => report.violations.length > 0);
if (values.child) process.exit(failed.length === 0 ? 0 : 1);
console.log(`\n${summarize(reports)}`);
console.log(`\n${reports.length} run(s), ${failed.length} with violations${failed.length > 0 ? `: seeds ${failed.map((r) => r.seed).join(', ')}` : ''}`);
process.exit(failed.length === 0 ? 0 : 1);
