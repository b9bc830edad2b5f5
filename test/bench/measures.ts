/**
 * The measures: each runs its contenders side by side (fresh process per
 * run, order alternating between runs, warm-up runs discarded) and returns
 * summaries the report turns into tables and target checks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runClient, runInteractiveClient, startServer, summarize, type Server, type Summary } from './harness.ts';

/** Sizes and repetitions of one bench run. */
export interface Plan {
  quick: boolean;
  warmup: number;
  runs: number;
  inboxCount: number;
  inboxPeers: number[];
  sendCount: number;
  connectSizes: number[];
  connectRuns: number;
  registerSizes: number[];
  registerRuns: number;
  stormPeers: number;
  /** Short redial delays, so a storm is over in a second (quick mode). */
  stormFast: boolean;
  stallSeconds: number;
  /** Peers registered and closed before a registration run is timed (JIT warm-up). */
  registerWarmup: number;
  /** Client processes at once (1 when measuring). */
  concurrency: number;
}

export const FULL: Plan = {
  quick: false,
  warmup: 1,
  runs: 7,
  inboxCount: 1_000_000,
  inboxPeers: [1, 100],
  sendCount: 200_000,
  connectSizes: [1000, 10_000],
  connectRuns: 3,
  registerSizes: [1000, 5000, 10_000, 20_000],
  registerRuns: 3,
  stormPeers: 5000,
  stormFast: false,
  stallSeconds: 30,
  registerWarmup: 1000,
  concurrency: 1
};

/** Seconds-long: proves every measure still runs; its numbers mean nothing. */
export const QUICK: Plan = {
  quick: true,
  warmup: 0,
  runs: 1,
  inboxCount: 20_000,
  inboxPeers: [1, 3],
  sendCount: 5000,
  connectSizes: [20],
  connectRuns: 1,
  registerSizes: [50, 200],
  registerRuns: 1,
  stormPeers: 20,
  stormFast: true,
  stallSeconds: 1.5,
  registerWarmup: 0,
  concurrency: 4
};

export const INBOX_KINDS = ['raw', 'honeybee', 'honeybee-batch', 'honeybee-parse', 'partysocket', 'nostr'] as const;
export const SEND_KINDS = ['raw', 'honeybee', 'partysocket', 'nostr'] as const;
export const CONNECT_KINDS = ['raw', 'honeybee', 'partysocket', 'nostr'] as const;
/**
 * The floor of the lifecycle measures, run at the largest size only: raw
 * `ws` plus one bare XState actor per socket under a pool machine that
 * re-emits their events (see `actorFleet`; `ab.ts` also runs `actor`, the
 * same under a callback actor).
 */
export const CONNECT_FLOOR_KINDS = ['actor-pool'] as const;
export const STORM_KINDS = ['honeybee', 'partysocket'] as const;
export const STALL_POLICIES = ['block', 'drop-oldest'] as const;
export const FLOOR_KINDS = ['minimal', 'minimal-invoke', 'worker'] as const;

type Sample = Record<string, unknown>;

/**
 * Runs `warmup + runs` rounds over `kinds`, forward then backward order,
 * and keeps the samples of the measured rounds per kind. In quick mode a
 * round's runs go in parallel: only completion matters there.
 */
async function alternate<K extends string>(plan: Plan, kinds: readonly K[], server: Server | undefined, run: (kind: K) => Promise<Sample>): Promise<Map<K, Sample[]>> {
  const samples = new Map<K, Sample[]>(kinds.map((kind) => [kind, []]));
  for (let round = 0; round < plan.warmup + plan.runs; round++) {
    const order = round % 2 === 0 ? kinds : [...kinds].reverse();
    const keep = (kind: K, sample: Sample): void => {
      if (round >= plan.warmup) samples.get(kind)!.push(sample);
    };
    if (plan.quick) {
      await Promise.all(order.map(async (kind) => keep(kind, await run(kind))));
      continue;
    }
    for (const kind of order) {
      // The previous client's connections must be gone before the next one is timed.
      await server?.idle();
      keep(kind, await run(kind));
    }
  }
  return samples;
}

function field<K extends string>(samples: Map<K, Sample[]>, name: string): Record<K, Summary> {
  const out = {} as Record<K, Summary>;
  for (const [kind, list] of samples) out[kind] = summarize(list.map((sample) => Number(sample[name])));
  return out;
}

export interface InboxRow {
  peers: number;
  cpuUsPerMessage: Record<(typeof INBOX_KINDS)[number], Summary>;
}

export async function measureInbox(plan: Plan, server: Server): Promise<InboxRow[]> {
  const rows: InboxRow[] = [];
  for (const peers of plan.inboxPeers) {
    const samples = await alternate(plan, INBOX_KINDS, server, (kind) => runClient('inbox-client.ts', [kind, server.port, plan.inboxCount, peers], { pin: true }));
    rows.push({ peers, cpuUsPerMessage: field(samples, 'cpuUsPerMessage') });
  }
  return rows;
}

export async function measureSend(plan: Plan, server: Server): Promise<Record<(typeof SEND_KINDS)[number], Summary>> {
  const samples = await alternate(plan, SEND_KINDS, server, (kind) => runClient('send-client.ts', [kind, server.port, plan.sendCount], { pin: true }));
  return field(samples, 'cpuUsPerMessage');
}

type ConnectKind = (typeof CONNECT_KINDS)[number];
type ConnectFloorKind = (typeof CONNECT_FLOOR_KINDS)[number];
/** Per kind; the floor kinds only in the row of the largest size. */
type PerKind = Record<ConnectKind, Summary> & Partial<Record<ConnectFloorKind | 'actor', Summary>>;
export interface ConnectRow {
  peers: number;
  connectMs: PerKind;
  heapPerPeer: PerKind;
  rssPerPeer: PerKind;
  closeMs: PerKind;
  connectCpuUsPerPeer: PerKind;
  closeCpuMs: PerKind;
}

export async function measureConnect(plan: Plan, server: Server): Promise<ConnectRow[]> {
  const rows: ConnectRow[] = [];
  for (const peers of plan.connectSizes) {
    const lifecycle = { ...plan, runs: plan.connectRuns };
    const kinds = peers === Math.max(...plan.connectSizes) ? [...CONNECT_KINDS, ...CONNECT_FLOOR_KINDS] : CONNECT_KINDS;
    const samples = (await alternate(lifecycle, kinds, server, (kind) => runClient('connect-client.ts', [kind, server.port, peers]))) as Map<ConnectKind, Sample[]>;
    rows.push({
      peers,
      connectMs: field(samples, 'connectMs'),
      heapPerPeer: field(samples, 'heapPerPeer'),
      rssPerPeer: field(samples, 'rssPerPeer'),
      closeMs: field(samples, 'closeMs'),
      connectCpuUsPerPeer: field(samples, 'connectCpuUsPerPeer'),
      closeCpuMs: field(samples, 'closeCpuMs')
    });
  }
  return rows;
}

export type FloorKind = (typeof FLOOR_KINDS)[number];
/** What one actor per peer costs without sockets (see floor-client.ts). */
export interface FloorRow {
  count: number;
  createUs: Record<FloorKind, Summary>;
  eventUs: Record<FloorKind, Summary>;
  heapPerActor: Record<FloorKind, Summary>;
}

export async function measureFloor(plan: Plan): Promise<FloorRow> {
  const count = plan.connectSizes[plan.connectSizes.length - 1] ?? 1000;
  const samples = await alternate({ ...plan, runs: plan.connectRuns }, FLOOR_KINDS, undefined, (kind) => runClient('floor-client.ts', [kind, count], { pin: true }));
  return { count, createUs: field(samples, 'createUs'), eventUs: field(samples, 'eventUs'), heapPerActor: field(samples, 'heapPerActor') };
}

export interface RegisterRow {
  peers: number;
  connectUsPerPeer: Summary;
  registerUsPerPeer: Summary;
  /** CPU time of this process from the first connect() until every peer is dialing. */
  registerCpuUsPerPeer: Summary;
  closeMs: Summary;
}

export async function measureRegister(plan: Plan): Promise<RegisterRow[]> {
  const samples = new Map<number, Sample[]>(plan.registerSizes.map((size) => [size, []]));
  // Sizes interleave within each round, so drift over the run hits all of them alike.
  for (let round = 0; round < plan.warmup + plan.registerRuns; round++) {
    const order = round % 2 === 0 ? plan.registerSizes : [...plan.registerSizes].reverse();
    const results = plan.quick
      ? await Promise.all(order.map((size) => runClient('register-client.ts', [size, plan.registerWarmup])))
      : await order.reduce<Promise<Sample[]>>(
          async (done, size) => [...(await done), await runClient('register-client.ts', [size, plan.registerWarmup])],
          Promise.resolve([])
        );
    if (round < plan.warmup) continue;
    results.forEach((sample, i) => samples.get(order[i]!)!.push(sample));
  }
  return plan.registerSizes.map((peers) => {
    const list = samples.get(peers)!;
    const of = (name: string): Summary => summarize(list.map((sample) => Number(sample[name])));
    return {
      peers,
      connectUsPerPeer: of('connectUsPerPeer'),
      registerUsPerPeer: of('registerUsPerPeer'),
      registerCpuUsPerPeer: of('registerCpuUsPerPeer'),
      closeMs: of('closeMs')
    };
  });
}

export interface StormResult {
  kind: string;
  peers: number;
  /** From the server's kill until its replacement was listening. */
  serverDownMs: number;
  allBackMs: number;
  dials: number;
  peakDialsPerSecond: number;
  peakDialsPer100ms: number;
  firstDialAfterDropMs: number;
  lastDialAfterDropMs: number;
}

async function storm(kind: string, peers: number, fast: boolean): Promise<StormResult> {
  let server = await startServer();
  const port = server.port;
  let serverDownMs = 0;
  const result = await runInteractiveClient('storm-client.ts', [kind, port, peers, fast ? 'fast' : 'default'], async () => {
    await sleep(200);
    const killed = performance.now();
    await server.kill('SIGKILL');
    server = await startServer(port);
    serverDownMs = performance.now() - killed;
  });
  await server.kill();
  return { ...(result as unknown as StormResult), serverDownMs };
}

export async function measureStorm(plan: Plan): Promise<StormResult[]> {
  if (plan.quick) return Promise.all(STORM_KINDS.map((kind) => storm(kind, plan.stormPeers, plan.stormFast)));
  const results: StormResult[] = [];
  for (const kind of STORM_KINDS) results.push(await storm(kind, plan.stormPeers, plan.stormFast));
  return results;
}

export interface StallResult {
  overflow: string;
  seconds: number;
  inboxDepth: number;
  received: number;
  rssAtFullMiB: number;
  rssEndMiB: number;
  rssGrowthAfterFullMiB: number;
  rssPeakAfterFullMiB: number;
  series: Array<{ t: number; rssMiB: number; heapMiB: number; depth: number; received: number }>;
}

export async function measureStall(plan: Plan, server: Server): Promise<StallResult[]> {
  const one = async (policy: string): Promise<StallResult> => (await runClient('stall-client.ts', [server.port, plan.stallSeconds, policy])) as unknown as StallResult;
  if (plan.quick) return Promise.all(STALL_POLICIES.map(one));
  const results: StallResult[] = [];
  for (const policy of STALL_POLICIES) {
    await server.idle();
    results.push(await one(policy));
  }
  return results;
}
