/**
 * The scale-out section of `npm run bench`: messages/s end to end through 1,
 * 2 and 4 shards (worker threads, and NATS shard processes) against one pool
 * on the same firehose, and the time to re-own the peers of a killed shard.
 * Writes `shards.md` and `shards.json` next to the main report and prints
 * the table. The NATS rows are skipped, saying why, without `nats-server`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findNatsServer, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { ROOT, runClient, summarize, type Server, type Summary } from './harness.ts';
import type { Plan } from './measures.ts';

const PEERS = 8;
const SHARD_COUNTS = [1, 2, 4];
const LEASE_TTL = 3000;
const HEARTBEAT = 500;

interface Row {
  readonly name: string;
  readonly messagesPerSecond: Summary;
  /** CPU of the client process per message (all its threads), ns. */
  readonly cpuPerMessageNs?: Summary;
}

/** One thread with no work per message against one pool on the same firehose (issue 25): at least this. */
const CROSSING_TARGET = 0.85;

/** Starts `count` shard processes of `cluster` and resolves once each has joined. */
async function startShards(nats: TestNatsServer, cluster: string, count: number): Promise<Array<{ id: string; child: ChildProcess }>> {
  const shards = Array.from({ length: count }, (_, i) => {
    const id = `s${i}`;
    const child = fork(join(ROOT, 'test', 'nats', 'shard-process.ts'), {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, NATS_URL: nats.url, CLUSTER: cluster, SHARD_ID: id, LEASE_TTL: String(LEASE_TTL), HEARTBEAT: String(HEARTBEAT), INBOX_SIZE: '4096' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc']
    });
    return { id, child, joined: new Promise<void>((resolve) => child.once('message', () => resolve())) };
  });
  await Promise.all(shards.map((shard) => shard.joined));
  await new Promise((resolve) => setTimeout(resolve, HEARTBEAT * 2));
  return shards;
}

async function stopShards(shards: Array<{ child: ChildProcess }>): Promise<void> {
  await Promise.all(
    shards.map(({ child }) =>
      child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL')))
    )
  );
}

async function rates(name: string, runs: number, args: () => Promise<{ args: Array<string | number>; after?: () => Promise<void> }>): Promise<Row> {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const { args: clientArgs, after } = await args();
    try {
      samples.push(Number((await runClient('shards-client.ts', ['rate', ...clientArgs])).messagesPerSecond));
    } finally {
      await after?.();
    }
  }
  return { name, messagesPerSecond: summarize(samples) };
}

const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');

/** Runs the section; `log` reports progress. */
export async function measureShards(plan: Plan, server: Server, outDir: string, log: (text: string) => void): Promise<void> {
  if (plan.quick) {
    // The smoke run has a tight budget and measures nothing; threads and NATS processes would crowd it.
    log('shards: skipped in --quick mode (npm run bench -- --only shards runs it)');
    return;
  }
  const runs = plan.quick ? 1 : 3;
  const seconds = plan.quick ? 1 : 3;
  const counts = plan.quick ? [2] : SHARD_COUNTS;
  const rows: Row[] = [];
  const notes: string[] = [];
  const reown: Record<string, Summary> = {};
  // One pool and one thread alternate, run for run, so a load that comes and goes meets both alike.
  const paired = { pool: [] as number[], thread: [] as number[], poolCpu: [] as number[], threadCpu: [] as number[], ratios: [] as number[] };
  const pairs = plan.quick ? 1 : 5;
  for (let run = 0; run < pairs; run++) {
    const pool = await runClient('shards-client.ts', ['rate', 'pool', 1, server.port, PEERS, seconds]);
    const thread = await runClient('shards-client.ts', ['rate', 'threads', 1, server.port, PEERS, seconds]);
    paired.pool.push(Number(pool.messagesPerSecond));
    paired.thread.push(Number(thread.messagesPerSecond));
    paired.poolCpu.push(Number(pool.cpuPerMessageNs));
    paired.threadCpu.push(Number(thread.cpuPerMessageNs));
    paired.ratios.push(Number(thread.messagesPerSecond) / Number(pool.messagesPerSecond));
  }
  rows.push({ name: 'one pool', messagesPerSecond: summarize(paired.pool), cpuPerMessageNs: summarize(paired.poolCpu) });
  rows.push({ name: 'threads × 1', messagesPerSecond: summarize(paired.thread), cpuPerMessageNs: summarize(paired.threadCpu) });
  const crossing = summarize(paired.ratios);
  for (const n of counts.filter((count) => count !== 1))
    rows.push(await rates(`threads × ${n}`, runs, async () => ({ args: ['threads', n, server.port, PEERS, seconds] })));
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) samples.push(Number((await runClient('shards-client.ts', ['reown-threads', server.port, 200])).reownMs));
  reown['threads (2 threads, 200 peers, terminate one)'] = summarize(samples);
  log('shards: threads done');

  const binary = findNatsServer();
  if (plan.quick) notes.push('NATS rows skipped in --quick mode.');
  else if (binary === undefined) notes.push('NATS rows skipped: nats-server is not installed (apt-get install nats-server).');
  else {
    const nats = await startNatsServer(binary);
    try {
      let cluster = 0;
      for (const n of counts) {
        rows.push(
          await rates(`NATS shards × ${n}`, runs, async () => {
            const name = `bench${++cluster}`;
            const shards = await startShards(nats, name, n);
            return { args: ['nats', n, server.port, PEERS, seconds, nats.url, name], after: () => stopShards(shards) };
          })
        );
      }
      const reowns: number[] = [];
      for (let run = 0; run < runs; run++) {
        const name = `reown${run}`;
        const shards = await startShards(nats, name, 3);
        const victim = shards[1] as { id: string; child: ChildProcess };
        try {
          const result = await runClient('shards-client.ts', ['reown-nats', server.port, 300, nats.url, name, victim.id, victim.child.pid ?? 0]);
          reowns.push(Number(result.reownMs));
        } finally {
          await stopShards(shards);
        }
      }
      reown[`NATS (3 shards, 300 peers, kill -9 one; lease ${LEASE_TTL} ms, heartbeat ${HEARTBEAT} ms)`] = summarize(reowns);
    } finally {
      await nats.dispose();
    }
  }
  const pool = rows[0]?.messagesPerSecond.median ?? 1;
  const lines = [
    '## Scale-out: shards',
    '',
    `${PEERS} firehose peers streaming without pause; messages/s taken from the inbox end to end, median of ${runs} run(s) (one pool and threads × 1: ${pairs} alternating pairs) of ${seconds} s after a 1 s warm-up. NATS shards run from the TypeScript sources (tsx), one process each, publishing to a JetStream file stream on the same machine.`,
    '',
    '| setup | messages/s (median) | min – max | vs one pool | process CPU per message |',
    '|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${fmt(row.messagesPerSecond.median)} | ${fmt(row.messagesPerSecond.min)} – ${fmt(row.messagesPerSecond.max)} | ${(row.messagesPerSecond.median / pool).toFixed(2)}× | ${row.cpuPerMessageNs === undefined ? '' : `${fmt(row.cpuPerMessageNs.median)} ns`} |`
    ),
    '',
    `Crossing (one pool and threads × 1 run alternately, ${pairs} pairs): threads × 1 / one pool = **${crossing.median.toFixed(2)}×** median of the pairs (${paired.ratios.map((ratio) => ratio.toFixed(2)).join(', ')}); target ≥ ${CROSSING_TARGET.toFixed(2)}× (${crossing.median >= CROSSING_TARGET ? 'met' : 'not met'}).`,
    '',
    '| re-own after a kill | ms (median) | min – max |',
    '|---|---|---|',
    ...Object.entries(reown).map(([name, summary]) => `| ${name} | ${fmt(summary.median)} | ${fmt(summary.min)} – ${fmt(summary.max)} |`),
    ...(notes.length === 0 ? [] : ['', ...notes])
  ];
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'shards.md'), `${lines.join('\n')}\n`);
  writeFileSync(join(outDir, 'shards.json'), `${JSON.stringify({ rows, crossing: { ...crossing, target: CROSSING_TARGET }, reown, notes }, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
