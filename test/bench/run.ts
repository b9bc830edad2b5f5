/**
 * `npm run bench`: every measure of `shared/design/performance.md`, each
 * with its contenders side by side, then the target checks. Writes
 * `test-artifacts/bench.md` and `test-artifacts/bench.json` and prints the
 * Markdown report.
 *
 * usage: npm run bench [-- --quick] [--runs <n>] [--only inbox,send,connect,register,storm,stall] [--out <dir>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, machine, startServer } from './harness.ts';
import { FULL, QUICK, measureConnect, measureInbox, measureRegister, measureSend, measureStall, measureStorm, type Plan } from './measures.ts';
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
const wanted = (name: string): boolean => only === undefined || only.includes(name);

const started = performance.now();
const log = (text: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);
};

const server = await startServer();
const results: Results = { inbox: [], send: {}, connect: [], register: [], storm: [], stall: [] };
try {
  if (wanted('inbox')) {
    log('inbox CPU');
    results.inbox = await measureInbox(plan, server);
  }
  if (wanted('send')) {
    log('send CPU');
    results.send = await measureSend(plan, server);
  }
  if (wanted('connect')) {
    log('connect time, idle memory, close');
    results.connect = await measureConnect(plan, server);
  }
  if (wanted('register')) {
    log('registration scaling');
    results.register = await measureRegister(plan);
  }
  if (wanted('storm')) {
    log('reconnect storm');
    results.storm = await measureStorm(plan);
  }
  if (wanted('stall')) {
    log('stalled consumer');
    results.stall = await measureStall(plan, server);
  }
} finally {
  await server.kill();
}

const header = {
  date: new Date().toISOString(),
  command: `npm run bench${args.length === 0 ? '' : ` -- ${args.join(' ')}`}`,
  durationS: Math.round((performance.now() - started) / 1000)
};
const host = machine();
const checks = targets(results);
const report = markdown(header, host, results, checks, plan);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify({ ...header, machine: host, plan, targets: checks, results }, null, 2)}\n`);
writeFileSync(join(outDir, 'bench.md'), report);
process.stdout.write(`${report}\n`);
log(`wrote ${join(outDir, 'bench.md')} and bench.json`);
