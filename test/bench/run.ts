/**
 * `npm run bench`: every measure of `shared/design/performance.md`, each
 * with its contenders side by side, then the target checks. Writes
 * `test-artifacts/bench.md` and `test-artifacts/bench.json` and prints the
 * Markdown report.
 *
 * Honeybee is measured as users run it, compiled by tsc, unless `--source`
 * (the default in `--quick` mode, which only proves the bench still runs).
 *
 * `--only 100k` runs the one measure the default run leaves out: one
 * process holding `--peers` (default 100 000) connected peers, pings on
 * every `--ping` ms (default 20 000), idle for `--idle` s (default 25),
 * connected all at once, or in waves of `--wave` peers (each waiting for the last); see
 * hold.ts. It runs unpinned: its servers and client use every core.
 *
 * usage: npm run bench [-- --quick] [--source] [--runs <n>] [--only inbox,send,connect,register,storm,stall,floor,shards,verify,inspector,100k] [--out <dir>]
 *        [--peers <n>] [--idle <s>] [--ping <ms>] [--wave <n>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, machine, pinCpus, setConcurrency, startServer, useBuild } from './harness.ts';
import { FULL, QUICK, measureConnect, measureFloor, measureInbox, measureRegister, measureSend, measureStall, measureStorm, type Plan } from './measures.ts';
import { markdown, targets, type Results } from './report.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? undefined : args[at + 1];
};
const plan: Plan = { ...(args.includes('--quick') ? QUICK : FULL) };
const runs = option('runs');
if (runs !== undefined) plan.runs = Number(runs);
const only = option('only')?.split(',');
const outDir = option('out') ?? join(ROOT, 'test-artifacts');
/** Measures the default run leaves out: asked for by name only. */
const OPT_IN = new Set(['100k']);
const wanted = (name: string): boolean => (only === undefined ? !OPT_IN.has(name) : only.includes(name));

const started = performance.now();
const log = (text: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);
};

log('building');
const measured = useBuild(!plan.quick && !args.includes('--source'));
const pinned = pinCpus(!plan.quick && !wanted('100k'));
const server = await startServer();
setConcurrency(plan.concurrency);
const results: Results = { inbox: [], send: {}, connect: [], register: [], storm: [], stall: [] };
const steps: Array<[string, string, () => Promise<void>]> = [
  ['inbox', 'inbox CPU', async () => void (results.inbox = await measureInbox(plan, server))],
  ['send', 'send CPU', async () => void (results.send = await measureSend(plan, server))],
  ['connect', 'connect time, idle memory, close', async () => void (results.connect = await measureConnect(plan, server))],
  ['register', 'registration scaling', async () => void (results.register = await measureRegister(plan))],
  ['storm', 'reconnect storm', async () => void (results.storm = await measureStorm(plan))],
  ['stall', 'stalled consumer', async () => void (results.stall = await measureStall(plan, server))],
  ['floor', 'XState floor', async () => void (results.floor = await measureFloor(plan))],
  ['shards', 'scale-out: shards', async () => (await import('./shards.ts')).measureShards(plan, server, outDir, log)],
  [
    'inspector',
    'inspector page at scale',
    async () =>
      plan.quick
        ? log('inspector: skipped in --quick mode (npm run bench -- --only inspector runs it)')
        : void (await (await import('./inspector.ts')).measureInspector(outDir, log))
  ],
  ['verify', 'verification in shards', async () => void (results.verify = await (await import('./verify.ts')).measureVerify(plan, log))],
  [
    '100k',
    'one process holding many peers',
    async () =>
      void (results.hold = await (
        await import('./hold.ts')
      ).measureHold(
        {
          peers: Number(option('peers') ?? 100_000),
          idleSeconds: Number(option('idle') ?? 25),
          pingIntervalMs: Number(option('ping') ?? 20_000),
          wave: Number(option('wave') ?? 0)
        },
        log
      ))
  ]
];
try {
  const chosen = steps.filter(([name]) => wanted(name));
  if (plan.quick) {
    // Only completion matters here: everything at once, a few client processes at a time.
    await Promise.all(chosen.map(async ([, label, step]) => (await step(), log(`${label} done`))));
  } else {
    for (const [, label, step] of chosen) {
      log(label);
      await step();
    }
  }
} finally {
  await server.kill();
}

const header = {
  date: new Date().toISOString(),
  command: `npm run bench${args.length === 0 ? '' : ` -- ${args.join(' ')}`}`,
  durationS: Math.round((performance.now() - started) / 1000),
  measured,
  pinned
};
const host = machine();
const checks = targets(results);
const report = markdown(header, host, results, checks, plan);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify({ ...header, machine: host, plan, targets: checks, results }, null, 2)}\n`);
writeFileSync(join(outDir, 'bench.md'), report);
process.stdout.write(`${report}\n`);
log(`wrote ${join(outDir, 'bench.md')} and bench.json`);
