/**
 * The verification section of `npm run bench` (`--only verify`): each
 * message needs real work. Signed Nostr events (signed once, cached; see
 * signed-events.ts) stream from a firehose server in its own process, and
 * every one is parsed and checked with nostr-tools' `verifyEvent`:
 * - one pool, verifying in its consumer;
 * - thread shards × 1 and × 2, verifying in the shard module's `process`;
 * - NATS shards × 1 and × 2 (one process each, one nats-server on a free
 *   port), verifying in the same shard module's `process`
 *   (verify-nats-shard.ts); a cluster client takes the verified events.
 * The measure is verified events/s taken by the consumer. Setups alternate
 * their order from round to round; each run is a fresh process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { findNatsServer, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { ROOT, currentEntry, runClient, startServer, summarize, type Summary } from './harness.ts';
import type { Plan } from './measures.ts';
import { signedEventsFile } from './signed-events.ts';

export const VERIFY_SETUPS = ['pool', 'threads × 1', 'threads × 2', 'NATS × 1', 'NATS × 2'] as const;
export type VerifySetup = (typeof VERIFY_SETUPS)[number];

export interface VerifyResult {
  peers: number;
  seconds: number;
  /** Distinct signed events the server replays. */
  events: number;
  /** Verified events/s taken by the consumer, per setup (NATS setups missing without nats-server). */
  verifiedPerSecond: Partial<Record<VerifySetup, Summary>>;
  /** Messages that failed verification (must be 0: the events are validly signed). */
  invalid: number;
  notes: string[];
}

const PEERS = 16;
// A shard verifying a socket's read blocks its event loop for a while: a long lease keeps its peers.
const LEASE_TTL = 20_000;
const HEARTBEAT = 2000;

/** Starts `count` NATS shard processes running the verification module; resolves once each has joined. */
async function startShards(nats: TestNatsServer, cluster: string, count: number): Promise<ChildProcess[]> {
  const shards = Array.from({ length: count }, (_, i) => {
    const child = fork(join(ROOT, 'test', 'bench', 'verify-nats-shard.ts'), {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        HONEYBEE_ENTRY: currentEntry(),
        NATS_URL: nats.url,
        CLUSTER: cluster,
        SHARD_ID: `s${i}`,
        LEASE_TTL: String(LEASE_TTL),
        HEARTBEAT: String(HEARTBEAT),
        INBOX_SIZE: '128',
        MAX_BATCH: '32'
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc']
    });
    return { child, joined: new Promise<void>((resolve) => child.once('message', () => resolve())) };
  });
  await Promise.all(shards.map((shard) => shard.joined));
  await new Promise((resolve) => setTimeout(resolve, HEARTBEAT + 500));
  return shards.map((shard) => shard.child);
}

async function stopShards(shards: ChildProcess[]): Promise<void> {
  await Promise.all(
    shards.map((child) =>
      child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL')))
    )
  );
}

/** Runs the section; `log` reports progress. */
export async function measureVerify(plan: Plan, log: (text: string) => void): Promise<VerifyResult> {
  const runs = plan.quick ? 1 : 3;
  const seconds = plan.quick ? 0.5 : 2;
  const peers = plan.quick ? 4 : PEERS;
  const count = plan.quick ? 64 : 1000;
  const startedAt = performance.now();
  const file = signedEventsFile(count);
  log(`verify: ${count} signed events ready (${((performance.now() - startedAt) / 1000).toFixed(1)} s)`);
  const notes: string[] = [];
  const binary = plan.quick ? undefined : findNatsServer();
  if (plan.quick) notes.push('NATS setups skipped in --quick mode.');
  else if (binary === undefined) notes.push('NATS setups skipped: nats-server is not installed (apt-get install nats-server).');
  // VERIFY_SETUPS=pool,NATS×1,… (names without spaces) runs only those: for re-running one row by hand.
  const only = process.env.VERIFY_SETUPS?.split(',');
  // The NATS rows add ≈ 45 s (a shard process per run, a heartbeat before it claims peers): they run when named.
  const setups = VERIFY_SETUPS.filter((setup) =>
    setup.startsWith('NATS') ? binary !== undefined && only?.includes(setup.replaceAll(' ', '')) === true : only === undefined || only.includes(setup.replaceAll(' ', ''))
  );
  if (!plan.quick && binary !== undefined && !setups.some((setup) => setup.startsWith('NATS'))) {
    notes.push(
      'NATS rows not run by default (they take the section past 90 s): `VERIFY_SETUPS=pool,threads×1,threads×2,NATS×1,NATS×2 npm run bench -- --only verify` runs them beside the others.'
    );
  }
  const server = await startServer(0, { args: ['--signed', file] });
  const nats = binary === undefined ? undefined : await startNatsServer(binary);
  const samples = new Map<VerifySetup, number[]>(setups.map((setup) => [setup, []]));
  let invalid = 0;
  let cluster = 0;
  const failed = new Set<VerifySetup>();
  const one = async (setup: VerifySetup): Promise<void> => {
    if (failed.has(setup)) return;
    const [kind = 'pool', n = '1'] = setup.split(' × ');
    let args: Array<string | number> = ['pool', 1, server.port, peers, seconds];
    let shards: ChildProcess[] = [];
    if (kind === 'threads') args = ['threads', n, server.port, peers, seconds];
    else if (kind === 'NATS' && nats !== undefined) {
      const name = `verify${++cluster}`;
      shards = await startShards(nats, name, Number(n));
      args = ['nats', n, server.port, peers, seconds, nats.url, name];
    }
    try {
      if (!plan.quick) await server.idle();
      const result = await runClient('verify-client.ts', args);
      samples.get(setup)!.push(Number(result.verifiedPerSecond));
      invalid += Number(result.invalid);
    } catch (error) {
      // A NATS setup may fail on its own (a shard that cannot load the module): the rest still runs.
      if (kind !== 'NATS') throw error;
      failed.add(setup);
      samples.delete(setup);
      notes.push(`${setup} failed, left out: ${error instanceof Error ? error.message : String(error)} (its stderr is in the bench log).`);
    } finally {
      await stopShards(shards);
    }
  };
  try {
    for (let round = 0; round < runs; round++) {
      const order = round % 2 === 0 ? setups : [...setups].reverse();
      if (plan.quick) await Promise.all(order.map(one));
      else for (const setup of order) await one(setup);
      log(`verify: round ${round + 1} of ${runs} done`);
    }
  } finally {
    await server.kill();
    await nats?.dispose();
  }
  const verifiedPerSecond: Partial<Record<VerifySetup, Summary>> = {};
  for (const [setup, list] of samples) verifiedPerSecond[setup] = summarize(list);
  return { peers, seconds, events: count, verifiedPerSecond, invalid, notes };
}
