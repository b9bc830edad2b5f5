/**
 * What inspection costs. Two measurements, each alternating the modes and
 * reporting the median of several runs:
 *
 * 1. machine: one worker machine with a fake socket on a SimulatedClock goes
 *    through N connect/close cycles (pure CPU, no I/O);
 * 2. pool: P peers against a local server that closes every connection as
 *    soon as it opens, with immediate reconnects, for a fixed time; CPU time
 *    per completed connect/close cycle (the in-process server included).
 *
 * Modes: off (no `inspect` option), noop (an observer that does nothing),
 * inspector (createInspector, no page open), inspector+page (one viewer on its
 * WebSocket receiving every batch).
 *
 * usage: npx tsx test/bench/inspector-overhead.ts [--cycles 20000] [--peers 50] [--seconds 2] [--runs 5]
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SimulatedClock, createActor, type InspectionEvent, type Observer } from 'xstate';
import type { SocketEvent } from '../../machines/worker-events.ts';
import { workerMachine, type WorkerTiming } from '../../machines/worker-machine.ts';
import { createTestLink } from '../../src/testkit/test-link.ts';
import { createInspector, type Inspector } from '../../src/inspector/server.ts';
import { createPool } from '../../src/node.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const CYCLES = option('cycles', 20_000);
const PEERS = option('peers', 50);
const SECONDS = option('seconds', 2);
const RUNS = option('runs', 5);

type Mode = 'off' | 'noop' | 'inspector' | 'inspector+page';
const MODES: Mode[] = ['off', 'noop', 'inspector', 'inspector+page'];

const timing: WorkerTiming = {
  reconnectDelay: 0,
  minUptime: 0,
  keepaliveTimeout: 0,
  pingInterval: 0,
  handshakeTimeout: 10_000,
  closeTimeout: 1000,
  retry: { initialDelay: 1, maxDelay: 1, jitter: 0, maxRetries: 0 }
};

/** An inspector (and optionally a viewer on it) for one run; `inspect` is undefined for `off`. */
async function setUp(mode: Mode): Promise<{ inspect: Observer<InspectionEvent> | undefined; done(): Promise<void> }> {
  if (mode === 'off') return { inspect: undefined, done: async () => {} };
  if (mode === 'noop') return { inspect: { next: () => {} }, done: async () => {} };
  const inspector: Inspector = await createInspector();
  let viewer: WebSocket | undefined;
  if (mode === 'inspector+page') {
    viewer = new WebSocket(inspector.url.replace('http:', 'ws:').replace('/?', '/ws?'));
    await new Promise((resolve) => viewer?.once('open', resolve));
  }
  return {
    inspect: inspector.inspect,
    done: async () => {
      viewer?.close();
      await inspector.close();
    }
  };
}

/** Microseconds per connect/close cycle of one worker machine. */
async function machineRun(mode: Mode): Promise<number> {
  const { inspect, done } = await setUp(mode);
  const clock = new SimulatedClock();
  // A link whose every dial opens at once.
  const link = Object.assign(createTestLink(), { dial: (report: (event: SocketEvent) => void) => report({ type: 'socket.open' }) });
  const logic = workerMachine;
  const input = { id: 'ws://127.0.0.1:1', link, timing, now: () => clock.now() };
  const actor = inspect === undefined ? createActor(logic, { clock, input }) : createActor(logic, { clock, input, inspect });
  actor.start();
  const started = cpuMicros();
  for (let i = 0; i < CYCLES; i++) {
    actor.send({ type: 'socket.closed', code: 1006, reason: '', cause: 'network_error' });
    clock.increment(1);
  }
  const elapsed = cpuMicros() - started;
  if (actor.getSnapshot().context.connections !== CYCLES + 1) throw new Error('the worker did not complete every cycle');
  actor.stop();
  await done();
  return elapsed / CYCLES;
}

/** CPU time of this process (user + system), in microseconds: less noisy than wall time on a busy machine. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU µs per connect/close cycle of a pool whose peers are dropped as soon as they connect (server included). */
async function poolRun(mode: Mode, port: number): Promise<number> {
  const { inspect, done } = await setUp(mode);
  const pool = createPool({ id: `bench-${mode}`, ...(inspect ? { inspect } : {}), ...timing, pingInterval: 0, keepaliveTimeout: 0 });
  let cycles = 0;
  pool.actor.on('connected', () => (cycles += 1));
  for (let i = 0; i < PEERS; i++) pool.connect(`ws://127.0.0.1:${port}/${i}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = cycles;
  const cpuBefore = cpuMicros();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const rate = (cpuMicros() - cpuBefore) / (cycles - before);
  await pool.close();
  await done();
  return rate;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN;

async function measure(label: string, unit: string, run: (mode: Mode) => Promise<number>): Promise<void> {
  const samples = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
  for (const mode of MODES) await run(mode); // warm-up
  for (let r = 0; r < RUNS; r++) for (const mode of MODES) samples.get(mode)?.push(await run(mode));
  const base = median(samples.get('off') ?? []);
  console.log(`\n${label}\n| mode | ${unit} (median of ${RUNS}) | vs off |\n|---|---|---|`);
  for (const mode of MODES) {
    const value = median(samples.get(mode) ?? []);
    console.log(`| ${mode} | ${value.toFixed(2)} | ${(value / base).toFixed(2)}× |`);
  }
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
server.on('connection', (socket) => {
  socket.on('error', () => {});
  socket.close(1000, 'bye');
});
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

console.log(`Node ${process.version}; ${CYCLES} machine cycles per run; ${PEERS} peers × ${SECONDS} s per pool run`);
await measure('1. one worker machine, connect/close cycle (SimulatedClock, fake socket)', 'CPU µs per cycle', machineRun);
await measure(`2. pool of ${PEERS} peers against a server that closes every connection`, 'CPU µs per cycle', (mode) => poolRun(mode, port));
server.close();
