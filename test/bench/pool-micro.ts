/**
 * The pool's own lifecycle cost without sockets: a transport whose sockets
 * open and close when told, so what is measured is honeybee and XState
 * (registration, the `socket.open` transition, `close()` with every
 * `disconnected` delivered) and none of `ws` or the kernel. Far steadier than
 * the socket measures, so a change to the machines or the pool shows here
 * first; `ab.ts` then tells whether it survives among real sockets.
 *
 * With `machine` it measures honeybee's default worker machine alone, under
 * the floor's parent, with a link that only reports (no registry, façade,
 * PeerLink or transport): the floor, the machine and the pool side by side
 * say which part of honeybee's cost is the machine's.
 *
 * With `floor` it measures the same three phases on the floor's bare actors
 * instead (`floorActors(true)`: one XState actor per peer under a pool
 * machine that re-emits; the close reply arrives a microtask after the close,
 * as the cue transport's does): what honeybee costs beyond that is its own.
 *
 * usage: HONEYBEE_ENTRY=<build>/src/node.js node --expose-gc --import tsx test/bench/pool-micro.ts [peers] [rounds] [honeybee|machine|floor]
 * (without HONEYBEE_ENTRY it measures the TypeScript sources, which tsx makes slower)
 */
import type { AnyActorRef } from 'xstate';
import { collectGarbage, cueTransport, floorActors, loadHoneybee, machineActors } from './fleet.ts';
import { summarize } from './harness.ts';

const [peersText = '10000', roundsText = '7', mode = 'honeybee'] = process.argv.slice(2);

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const cpuPerPeer = (usage: NodeJS.CpuUsage, peers: number): number => (usage.user + usage.system) / peers;

interface Round {
  register: number;
  open: number;
  close: number;
  heap: number;
}

/** What is measured: registering `peers` peers, opening them all, closing them all (every end delivered). */
interface Subject {
  /** Resolves once every peer's worker has started (honeybee starts a burst in slices, one per turn). */
  register(peers: number): Promise<void>;
  open(): void;
  close(): Promise<void>;
}

async function honeybee(): Promise<Subject> {
  const { createPool } = await loadHoneybee();
  const cue = cueTransport();
  const pool = createPool({ transport: cue.transport });
  let connected = 0;
  pool.actor.on('connected', () => connected++);
  return {
    async register(peers) {
      for (let i = 0; i < peers; i++) pool.connect(`ws://127.0.0.1:1/p${i}`);
      while (cue.dialed < peers) await turn();
    },
    open() {
      cue.openAll();
    },
    async close() {
      if (connected !== cue.dialed) throw new Error(`${connected} of ${cue.dialed} peers connected`);
      await pool.close();
    }
  };
}

// The close reply arrives a microtask after the close, as the cue transport's does.
async function floor(): Promise<Subject> {
  const actors = await floorActors(true);
  const started: AnyActorRef[] = [];
  const sendAll = (type: string): void => {
    for (const actor of started) actor.send({ type });
  };
  return {
    async register(peers) {
      for (let i = 0; i < peers; i++) started.push(actors.spawn());
    },
    open: () => sendAll('open'),
    async close() {
      sendAll('close');
      await Promise.resolve();
      sendAll('closed');
      await turn();
      if (started.some((actor) => actor.getSnapshot().status !== 'done')) throw new Error('a floor actor did not finish');
    }
  };
}

// The default worker machine alone under the floor's parent: what the machine costs beyond the floor's actor.
async function machine(): Promise<Subject> {
  const actors = await machineActors();
  const started: AnyActorRef[] = [];
  return {
    async register(peers) {
      for (let i = 0; i < peers; i++) started.push(actors.spawn());
    },
    open: () => {
      for (const link of actors.links) link.open();
    },
    async close() {
      for (const actor of started) actor.send({ type: 'worker.stop' });
      await turn();
      if (started.some((actor) => actor.getSnapshot().status !== 'done')) throw new Error('a worker machine did not finish');
    }
  };
}

const SUBJECTS: Record<string, () => Promise<Subject>> = { honeybee, floor, machine };

async function round(peers: number): Promise<Round> {
  const subject = await SUBJECTS[mode]!();
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  let start = process.cpuUsage();
  await subject.register(peers);
  await turn();
  const register = cpuPerPeer(process.cpuUsage(start), peers);
  start = process.cpuUsage();
  subject.open();
  await turn();
  const open = cpuPerPeer(process.cpuUsage(start), peers);
  collectGarbage();
  const heap = (process.memoryUsage().heapUsed - heapBefore) / peers / 1024;
  start = process.cpuUsage();
  await subject.close();
  return { register, open, close: cpuPerPeer(process.cpuUsage(start), peers), heap };
}

if (SUBJECTS[mode] === undefined) throw new Error(`unknown mode ${mode}: honeybee, machine or floor`);
const peers = Number(peersText);
await round(1000); // warm-up: JIT and the module graph
const rounds: Round[] = [];
for (let i = 0; i < Number(roundsText); i++) rounds.push(await round(peers));
const fields = ['register', 'open', 'close', 'heap'] as const;
const line = fields.map((field) => {
  const { median, min, max } = summarize(rounds.map((r) => r[field]));
  const unit = field === 'heap' ? 'KiB' : 'µs';
  // Heap to 0.01 KiB: a field less per peer is 0.008 KiB.
  const digits = field === 'heap' ? 2 : 1;
  return `${field} ${median.toFixed(digits)} ${unit} (${min.toFixed(digits)}–${max.toFixed(digits)})`;
});
console.log(`${mode}: ${peers} peers, ${rounds.length} rounds, CPU per peer: ${line.join(', ')}`);
