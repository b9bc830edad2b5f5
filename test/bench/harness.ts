/**
 * The runner's plumbing: server and client child processes, summary
 * statistics, and the machine header. Every client runs in a fresh process
 * (`node --expose-gc --import tsx`), so no contender inherits another's JIT
 * state, heap or sockets.
 */
import { execFileSync, execSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const NODE_ARGS = ['--expose-gc', '--import', 'tsx'];

type Child = ChildProcessByStdio<null, Readable, null>;

let slots = 1;
const queued: Array<() => void> = [];

/** How many client processes may run at once: 1 for measuring, more for the quick smoke run. */
export function setConcurrency(limit: number): void {
  slots = limit;
}

async function withSlot<T>(work: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((resolve) => queued.push(resolve));
  else slots--;
  try {
    return await work();
  } finally {
    const next = queued.shift();
    if (next === undefined) slots++;
    else next();
  }
}

let honeybeeEntry = '';
let pinning: { server: string; client: string } | undefined;

/**
 * Pins the server to the first CPU and the clients of the CPU-per-message
 * measures to the second (Linux `taskset`, two cores or more), so those runs
 * neither migrate nor share a core with the server. Lifecycle measures
 * (connect, close, storm) stay unpinned: their wall time depends on GC and
 * I/O helper threads that a real process spreads over every core. Returns
 * whether pinning is on.
 */
export function pinCpus(enable: boolean): boolean {
  pinning = undefined;
  if (!enable || os.cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  pinning = { server: '0', client: '1' };
  return true;
}

function start(script: string, args: string[], role: 'server' | 'client' | 'free' = 'free'): Child {
  const command = [process.execPath, ...NODE_ARGS, `${HERE}${script}`, ...args];
  const cpu = role === 'free' ? undefined : pinning?.[role];
  const [file, ...rest] = cpu === undefined ? command : ['taskset', '-c', cpu, ...command];
  return spawn(file!, rest, {
    cwd: ROOT,
    env: { ...process.env, HONEYBEE_ENTRY: honeybeeEntry },
    stdio: ['ignore', 'pipe', 'inherit']
  });
}

/**
 * Compiles the package with `tsc` (as `npm run build` does) into
 * `test-artifacts/bench-build` and makes every client load it: the measured
 * honeybee is the JavaScript users run. Returns what was measured; on a
 * failed build the clients fall back to the TypeScript sources through tsx.
 */
export function useBuild(build: boolean): string {
  honeybeeEntry = '';
  if (!build) return 'TypeScript sources through tsx';
  const outDir = join(ROOT, 'test-artifacts', 'bench-build');
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'], {
      cwd: ROOT,
      stdio: 'pipe'
    });
  } catch (error) {
    const output = String((error as { stdout?: unknown }).stdout ?? error);
    process.stderr.write(`[bench] tsc build failed; measuring the TypeScript sources instead:\n${output}\n`);
    return 'TypeScript sources through tsx (the tsc build failed)';
  }
  honeybeeEntry = join(outDir, 'src', 'node.js');
  return 'the tsc build (test-artifacts/bench-build)';
}

/** What the clients load honeybee from (`HONEYBEE_ENTRY`): the build's `src/node.js`, or '' for the sources. */
export function currentEntry(): string {
  return honeybeeEntry;
}

/** Makes the clients started from now on load honeybee from `entry` (a built `src/index.js`; '' for the sources). */
export function useEntry(entry: string): void {
  honeybeeEntry = entry;
}

/** Yields each JSON line a child prints; other lines are ignored. */
async function* jsonLines(child: Child): AsyncGenerator<Record<string, unknown>> {
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('{')) yield JSON.parse(line) as Record<string, unknown>;
  }
}

/** A firehose server child process (see firehose-server.ts). */
export interface Server {
  readonly port: number;
  /** The loopback address it listens on. */
  readonly host: string;
  /** Open WebSocket connections, as the server counts them. */
  connections(): Promise<number>;
  /** Resolves once the server holds no connection (or after `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a firehose server; `host` is a 127.0.0.0/8 address, `args` more flags (`--signed <file>`). */
export async function startServer(port = 0, options: { host?: string; args?: string[] } = {}): Promise<Server> {
  const host = options.host ?? '127.0.0.1';
  const child = start('firehose-server.ts', [...(port === 0 ? [] : ['--port', String(port)]), '--host', host, ...(options.args ?? [])], 'server');
  const lines = jsonLines(child);
  const first = await lines.next();
  if (first.done === true) throw new Error('firehose server exited before listening');
  const bound = Number(first.value.port);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const connections = async (): Promise<number> => {
    const response = await fetch(`http://${host}:${bound}/stats`);
    return ((await response.json()) as { connections: number }).connections;
  };
  return {
    port: bound,
    host,
    connections,
    idle: async (timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while ((await connections()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    }
  };
}

/** Runs one client process to completion and returns the last JSON line it printed. */
export function runClient(script: string, args: Array<string | number>, options: { pin?: boolean; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  return withSlot(() => runClientNow(script, args, options.pin === true, options.timeoutMs ?? 180_000));
}

async function runClientNow(script: string, args: Array<string | number>, pin: boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  const child = start(script, args.map(String), pin ? 'client' : 'free');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  let last: Record<string, unknown> | undefined;
  for await (const line of jsonLines(child)) last = line;
  clearTimeout(timer);
  const exitCode = await code;
  if (exitCode !== 0 || last === undefined) throw new Error(`${script} ${args.join(' ')} failed (exit ${String(exitCode)})`);
  return last;
}

/**
 * Runs a client that prints `{"ready":true}` at some point, calls `onReady`
 * then, and returns the JSON line printed after it.
 */
export function runInteractiveClient(script: string, args: Array<string | number>, onReady: () => Promise<void>, timeoutMs = 180_000): Promise<Record<string, unknown>> {
  return withSlot(() => runInteractiveNow(script, args, onReady, timeoutMs));
}

async function runInteractiveNow(script: string, args: Array<string | number>, onReady: () => Promise<void>, timeoutMs: number): Promise<Record<string, unknown>> {
  const child = start(script, args.map(String));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  let last: Record<string, unknown> | undefined;
  for await (const line of jsonLines(child)) {
    if (line.ready === true) await onReady();
    else last = line;
  }
  clearTimeout(timer);
  const exitCode = await code;
  if (exitCode !== 0 || last === undefined) throw new Error(`${script} ${args.join(' ')} failed (exit ${String(exitCode)})`);
  return last;
}

/** Median, extremes and every sample of one contender's runs. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median: how far apart the runs were. */
  spread: number;
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const min = sorted[0] ?? NaN;
  const max = sorted[sorted.length - 1] ?? NaN;
  return { median, min, max, spread: median === 0 ? 0 : (max - min) / median, samples };
}

function packageVersion(name: string): string {
  try {
    const path = name === 'honeybee' ? `${ROOT}package.json` : `${ROOT}node_modules/${name}/package.json`;
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** What the results were measured on. */
export function machine(): Record<string, string | number> {
  let fdLimit = 'unknown';
  try {
    fdLimit = execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim();
  } catch {
    // Not a POSIX shell: leave it unknown.
  }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    fdLimit,
    honeybee: packageVersion('honeybee'),
    ws: packageVersion('ws'),
    xstate: packageVersion('xstate'),
    partysocket: packageVersion('partysocket'),
    'nostr-tools': packageVersion('nostr-tools')
  };
}
