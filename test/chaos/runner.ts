/**
 * One fault-injection run: a nats-server, a peer server and N shard
 * processes (each reaching NATS through its own fault proxy), a cluster
 * client that registers, removes and sends while reading the inbox and
 * events, KV watchers, and a nemesis playing a seeded schedule of faults.
 * Everything is recorded in a JSONL history (see history.ts) that the
 * checker then judges. Every process it starts is killed when it ends,
 * also when it fails.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kvm, type KV } from '@nats-io/kv';
import { build } from 'esbuild';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createClusterClient, type ClusterClient } from '../../src/nats/index.ts';
import { clusterNames, peerIdOf } from '../../src/nats/names.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { findNatsServer, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { sortHistory, type Rec } from './history.ts';
import { makeSchedule, type Fault, type FaultKind } from './schedule.ts';

export interface RunOptions {
  readonly seed: number;
  /** Time for faults, ms. */
  readonly duration: number;
  readonly peers: number;
  readonly shards: number;
  readonly leaseTtl: number;
  readonly heartbeat: number;
  /** The history file to write. */
  readonly out: string;
  /** Only these kinds (the CI slices). */
  readonly kinds?: readonly FaultKind[];
  /** Gap after each fault heals, ms (see ScheduleOptions.settleGap). */
  readonly settleGap?: number;
  /** Frames per connection: one per this many ms. @default 500 */
  readonly frameInterval?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

const CLUSTER = 'chaos';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pathOf = (id: string): string => new URL(id).pathname;

interface ShardHandle {
  readonly id: string;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

let bundled: Promise<{ shard: string; peer: string }> | undefined;

/**
 * The shard and peer-server programs as plain JavaScript (bundled once per
 * test process): a process then starts in a fraction of what tsx takes,
 * which keeps restarts and rolling restarts short on a busy machine.
 */
function programs(): Promise<{ shard: string; peer: string }> {
  bundled ??= (async () => {
    const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
    // Inside node_modules, so the bundles' imports of packages resolve as the sources' do.
    const outdir = here(`../../node_modules/.cache/honeybee-chaos-${process.pid}`);
    await build({
      entryPoints: [here('./shard-process.ts'), here('./peer-server.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir,
      outExtension: { '.js': '.mjs' },
      logLevel: 'error'
    });
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    return { shard: join(outdir, 'shard-process.mjs'), peer: join(outdir, 'peer-server.mjs') };
  })();
  return bundled;
}

/** What each unfinished run would kill at once (its processes and nats-server). */
const unfinished = new Set<() => void>();

/** Kills every process of every run still going (a test's afterAll, after a timeout). */
export function killChaosProcesses(): void {
  for (const kill of unfinished) kill();
}

/** Runs the schedule of `options.seed`; resolves when the history file is written. */
export async function runChaos(options: RunOptions): Promise<{ faults: Fault[]; out: string }> {
  const binary = findNatsServer();
  if (binary === undefined) throw new Error('nats-server is not installed');
  const log = options.log ?? (() => {});
  const { leaseTtl, heartbeat } = options;
  const faults = makeSchedule({ seed: options.seed, duration: options.duration, leaseTtl, heartbeat, kinds: options.kinds, settleGap: options.settleGap });
  mkdirSync(dirname(options.out), { recursive: true });
  const peerLog = `${options.out}.peer`;
  const ownLog = `${options.out}.own`;
  rmSync(peerLog, { force: true });
  const own = createWriteStream(ownLog);
  const record = (rec: Record<string, unknown> & { src: Rec['src'] }): void => void own.write(`${JSON.stringify({ t: Date.now(), ...rec })}\n`);
  const nemesis = (rec: Record<string, unknown>): void => record({ src: 'nemesis', ...rec });

  const children = new Set<ChildProcess>();
  let nats: TestNatsServer | undefined;
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const pid = nats?.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killAll);
  unfinished.add(killAll);
  const proxies = new Map<string, FaultProxy>();
  const shards = new Map<string, ShardHandle>();
  let peerServer: ChildProcess | undefined;
  let nc: NatsConnection | undefined;
  let client: ClusterClient | undefined;
  const watchers: Array<{ stop(): void }> = [];
  let stopping = false;
  try {
    nats = await startNatsServer(binary);
    const natsPort = Number(new URL(nats.url).port);
    nemesis({ k: 'config', seed: options.seed, leaseTtl, heartbeat, peers: options.peers, shards: Array.from({ length: options.shards }, (_, i) => `s${i + 1}`) });

    // The peer server, in its own process, writing its own log.
    const bin = await programs();
    const ps = fork(bin.peer, {
      execArgv: [],
      env: { ...process.env, LOG: peerLog, INTERVAL: String(options.frameInterval ?? 500) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    });
    peerServer = ps;
    children.add(ps);
    const peerPort = await new Promise<number>((resolve, reject) => {
      ps.once('message', (message: { port: number }) => resolve(message.port));
      ps.once('exit', () => reject(new Error('the peer server exited')));
    });
    const urls = Array.from({ length: options.peers }, (_, i) => `ws://127.0.0.1:${peerPort}/p${i}`);

    const startShard = async (id: string): Promise<ShardHandle> => {
      let proxy = proxies.get(id);
      if (proxy === undefined) {
        proxy = await startFaultProxy(`ws://127.0.0.1:${natsPort}`);
        proxies.set(id, proxy);
      }
      const child = fork(bin.shard, {
        execArgv: [],
        env: { ...process.env, NATS_URL: `nats://127.0.0.1:${proxy.port}`, CLUSTER, SHARD_ID: id, LEASE_TTL: String(leaseTtl), HEARTBEAT: String(heartbeat) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
      });
      children.add(child);
      const inc = child.pid ?? 0;
      nemesis({ k: 'spawn', shard: id, inc });
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          nemesis({ k: 'exit', shard: id, inc });
          children.delete(child);
          resolve();
        })
      );
      const ready = new Promise<void>((resolve, reject) => {
        child.on('message', (message: { ready?: boolean }) => {
          if (message.ready === true) {
            nemesis({ k: 'ready', shard: id, inc });
            resolve();
          }
        });
        void exited.then(() => reject(new Error(`shard ${id} exited before it was ready`)));
      });
      ready.catch(() => {});
      const handle = { id, child, ready, exited };
      shards.set(id, handle);
      return handle;
    };
    const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
      Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`timed out after ${ms} ms: ${what}`)))]);

    const initial = Array.from({ length: options.shards }, (_, i) => `s${i + 1}`);
    const started = await Promise.all(initial.map((id) => startShard(id)));
    await withTimeout(Promise.all(started.map((shard) => shard.ready)), 30_000, 'the shards to start');

    // The client side: direct to nats-server (not through a proxy), recording what it reads.
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    client = await createClusterClient({ nats: nc, cluster: CLUSTER, requestTimeout: 1000 });
    const cc = client;
    let lastInbox = Date.now();
    const reading = (async () => {
      for await (const batch of cc.inbox.batches()) {
        const t = Date.now();
        lastInbox = t;
        for (const { id, data, epoch, seq, shard } of batch) {
          const frame = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString()) as { c: number; s: number };
          record({ src: 'inbox', t, p: pathOf(id), c: frame.c, s: frame.s, e: epoch, q: seq, sh: shard });
        }
      }
    })().catch((error: unknown) => log(`inbox reader ended: ${String(error)}`));
    const readingEvents = (async () => {
      for await (const event of cc.events) {
        const { id, kind, epoch, seq, shard } = event;
        const extra = event as unknown as { code?: number; cause?: string };
        record({ src: 'event', p: pathOf(id), kind, e: epoch, q: seq, sh: shard, code: extra.code, cause: extra.cause });
      }
    })().catch((error: unknown) => log(`events reader ended: ${String(error)}`));

    // KV watchers: every update, with the server's time of the write.
    const names = clusterNames(CLUSTER);
    const kvm = new Kvm(nc);
    const watch = (bucket: 'claims' | 'members' | 'peers', kv: KV): void => {
      const seen = new Set<number>();
      let watcher: { stop(): void } | undefined;
      watchers.push({ stop: () => watcher?.stop() });
      void (async () => {
        while (!stopping) {
          try {
            const iter = await kv.watch();
            watcher = iter;
            for await (const entry of iter) {
              if (seen.has(entry.revision)) continue;
              seen.add(entry.revision);
              const key = bucket === 'members' ? entry.key : pathOf(peerIdOf(entry.key));
              record({
                src: 'kv',
                t: entry.created.getTime(),
                b: bucket,
                key,
                op: entry.operation === 'PUT' ? 'PUT' : 'DEL',
                v: entry.operation === 'PUT' ? entry.string() : '',
                rev: entry.revision
              });
            }
          } catch {
            // the server is down (a fault): watch again after the pause
          }
          if (!stopping) await sleep(100);
        }
      })();
    };
    watch('claims', await kvm.open(names.claims));
    watch('peers', await kvm.open(names.peers));
    watch('members', await kvm.open(names.members));

    // Register the peers, then let the cluster settle before the first fault.
    const registered = new Set<string>();
    for (const url of urls) {
      await cc.connect(url);
      registered.add(url);
      record({ src: 'client', k: 'connect', p: pathOf(url), ok: true });
    }
    log(`seed ${options.seed}: ${options.shards} shards, ${options.peers} peers registered; ${faults.length} faults: ${faults.map((f) => f.kind).join(', ')}`);
    await sleep(heartbeat + 1000);

    // The workload: seeded choices of send / remove / re-register while the nemesis works.
    const workRandom = seededRandom(options.seed ^ 0x5bd1e995);
    let churn = true;
    let working = true;
    let sent = 0;
    const workload = (async () => {
      while (working) {
        await sleep(100);
        const roll = workRandom();
        const url = urls[Math.floor(workRandom() * urls.length)] as string;
        const p = pathOf(url);
        try {
          if (roll < 0.8 || !churn) {
            if (!registered.has(url)) continue;
            await cc.send(url, `m${++sent}`);
            record({ src: 'client', k: 'send', p, ok: true });
          } else if (registered.has(url)) {
            if (registered.size < urls.length * 0.9) continue;
            await cc.remove(url);
            registered.delete(url);
            record({ src: 'client', k: 'remove', p, ok: true });
          } else {
            await cc.connect(url);
            registered.add(url);
            record({ src: 'client', k: 'connect', p, ok: true });
          }
        } catch (error) {
          const k = roll < 0.8 || !churn ? 'send' : registered.has(url) ? 'remove' : 'connect';
          record({ src: 'client', k, p, ok: false, err: (error as { code?: string }).code ?? String(error) });
        }
      }
    })();

    // The nemesis.
    const live = (): string[] => [...shards.keys()].sort();
    let joined = 0;
    const natsDown = async (signal: NodeJS.Signals, ms: number): Promise<void> => {
      nemesis({ k: 'nats-down', signal });
      const down = Date.now();
      await nats?.stop(signal);
      await sleep(Math.max(0, ms - (Date.now() - down)));
      await nats?.start();
      nemesis({ k: 'nats-up' });
    };
    const restart = async (id: string): Promise<void> => {
      const handle = await startShard(id);
      await withTimeout(handle.ready, 30_000, `shard ${id} to restart`);
    };
    for (const [index, fault] of faults.entries()) {
      await sleep(fault.gap);
      const ids = live();
      const target = ids[fault.target % ids.length] as string;
      const shard = shards.get(target) as ShardHandle;
      const inc = shard.child.pid ?? 0;
      const mark = (k: 'start' | 'heal' | 'healed', extra: Record<string, unknown> = {}): void => nemesis({ k, fault: index, kind: fault.kind, ms: fault.ms, ...extra });
      log(
        `seed ${options.seed}: fault ${index + 1}/${faults.length} ${fault.kind}${fault.kind.startsWith('shard-') && fault.kind !== 'shard-join' ? ` on ${target}` : ''} for ${fault.ms} ms`
      );
      switch (fault.kind) {
        case 'nats-term-short':
        case 'nats-term-mid':
        case 'nats-term-long':
        case 'nats-kill-short':
        case 'nats-kill-mid':
        case 'nats-kill-long':
          mark('start');
          await natsDown(fault.kind.startsWith('nats-term') ? 'SIGTERM' : 'SIGKILL', fault.ms);
          mark('heal');
          mark('healed');
          break;
        case 'shard-kill9':
          mark('start', { target });
          nemesis({ k: 'kill', shard: target, inc });
          shard.child.kill('SIGKILL');
          await shard.exited;
          shards.delete(target);
          await sleep(fault.ms);
          mark('heal', { target });
          await restart(target);
          mark('healed', { target });
          break;
        case 'shard-pause':
          mark('start', { target });
          nemesis({ k: 'stop', shard: target, inc });
          shard.child.kill('SIGSTOP');
          await sleep(fault.ms);
          mark('heal', { target });
          nemesis({ k: 'cont', shard: target, inc });
          shard.child.kill('SIGCONT');
          mark('healed', { target });
          break;
        case 'shard-cut':
        case 'shard-freeze': {
          const proxy = proxies.get(target) as FaultProxy;
          mark('start', { target });
          if (fault.kind === 'shard-cut') {
            nemesis({ k: 'cut', shard: target });
            proxy.refuse(true);
            proxy.reset();
          } else {
            nemesis({ k: 'freeze', shard: target });
            proxy.blackhole();
          }
          await sleep(fault.ms);
          mark('heal', { target });
          nemesis({ k: 'pass', shard: target });
          proxy.refuse(false);
          proxy.pass();
          mark('healed', { target });
          break;
        }
        case 'nats-slow':
          mark('start', { delay: fault.delay });
          for (const [id, proxy] of proxies) {
            nemesis({ k: 'slow', shard: id, ms: fault.delay });
            proxy.delay(fault.delay);
          }
          await sleep(fault.ms);
          mark('heal');
          for (const [id, proxy] of proxies) {
            nemesis({ k: 'pass', shard: id });
            proxy.pass();
          }
          mark('healed');
          break;
        case 'shard-join': {
          const id = `j${++joined}`;
          mark('start', { target: id });
          mark('heal', { target: id });
          await restart(id);
          mark('healed', { target: id });
          break;
        }
        case 'rolling-restart':
          mark('start');
          for (const id of live()) {
            const handle = shards.get(id) as ShardHandle;
            nemesis({ k: 'term', shard: id, inc: handle.child.pid ?? 0 });
            handle.child.kill('SIGTERM');
            await withTimeout(handle.exited, 15_000, `shard ${id} to leave`).catch(() => handle.child.kill('SIGKILL'));
            await handle.exited;
            shards.delete(id);
            await restart(id);
          }
          mark('heal');
          mark('healed');
          break;
      }
    }

    // The end: no more churn, one settle window, then the peer server goes quiet and the inbox drains.
    churn = false;
    nemesis({ k: 'settle-start' });
    // Long enough to judge the last fault: after a server restart or a cut the NATS clients take 2–6 s to come back, then leaseTtl + heartbeat + a dial.
    await sleep(leaseTtl + heartbeat + 6000);
    working = false;
    await workload;
    ps.send('quiet');
    await new Promise<void>((resolve) => ps.once('message', () => resolve()));
    const quietAt = Date.now();
    while (Date.now() - lastInbox < 1500 && Date.now() - quietAt < 15_000) await sleep(100);
    nemesis({ k: 'end' });
    log(`seed ${options.seed}: the schedule is over`);
    void reading;
    void readingEvents;
  } finally {
    stopping = true;
    for (const shard of shards.values()) shard.child.kill('SIGKILL');
    for (const child of children) if (child !== peerServer) child.kill('SIGKILL');
    await Promise.all([...shards.values()].map((shard) => shard.exited));
    for (const watcher of watchers) watcher.stop();
    await client?.close().catch(() => {});
    await nc?.close().catch(() => {});
    for (const proxy of proxies.values()) await proxy.close();
    await nats?.dispose().catch(() => {});
    if (peerServer !== undefined && peerServer.exitCode === null) {
      const done = new Promise<void>((resolve) => peerServer?.once('exit', () => resolve()));
      peerServer.send('exit');
      await Promise.race([done, sleep(3000)]);
      peerServer.kill('SIGKILL');
    }
    await new Promise<void>((resolve) => own.end(() => resolve()));
    killAll();
    process.removeListener('exit', killAll);
    unfinished.delete(killAll);
  }
  // One history file: both logs, by time.
  const lines = [readFileSync(ownLog, 'utf8'), readFileSync(peerLog, 'utf8')]
    .join('\n')
    .split('\n')
    .filter((line) => line !== '');
  const records = sortHistory(lines.map((line) => JSON.parse(line) as Rec));
  writeFileSync(options.out, records.map((rec) => JSON.stringify(rec)).join('\n') + '\n');
  rmSync(ownLog, { force: true });
  rmSync(peerLog, { force: true });
  return { faults, out: options.out };
}
