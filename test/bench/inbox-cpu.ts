/**
 * Inbox CPU per message, honeybee vs a raw `ws` client, side by side in one
 * run: server in a child process, each client run in its own process, A/B
 * alternating, first pair discarded as warm-up; prints median and spread.
 *
 * usage: npm run bench [-- --runs 7 --count 300000]
 */
import { spawn, execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const RUNS = option('runs', 7);
const COUNT = option('count', 300_000);
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

interface Sample { kind: string; peers: number; cpuUsPerMessage: number }

function runClient(kind: string, port: number, peers: number): Sample {
  const out = execFileSync(tsx, [`${here}inbox-client.ts`, kind, String(port), String(COUNT), String(peers)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as Sample;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const server = spawn(tsx, [`${here}firehose-server.ts`], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => server.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()).port)));

console.log(`machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}; ${COUNT} messages per run, ${RUNS} runs (+1 warm-up)`);
console.log('| peers | raw ws µs/msg (median, min–max) | honeybee µs/msg (median, min–max) | ratio |');
console.log('|---|---|---|---|');
for (const peers of [1, 100]) {
  const raw: number[] = [];
  const pool: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const order = run % 2 === 0 ? ['raw', 'honeybee'] : ['honeybee', 'raw'];
    for (const kind of order) {
      const sample = runClient(kind, port, peers);
      if (run > 0) (kind === 'raw' ? raw : pool).push(sample.cpuUsPerMessage);
    }
  }
  const fmt = (values: number[]): string => `${median(values).toFixed(3)} (${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)})`;
  console.log(`| ${peers} | ${fmt(raw)} | ${fmt(pool)} | ${(median(pool) / median(raw)).toFixed(2)}× |`);
}
server.kill();
