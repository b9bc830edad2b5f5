/**
 * The runner's plumbing: server and client child processes, summary
 * statistics, and the machine header. Every client runs in a fresh process
 * (`node --expose-gc --import tsx`), so no contender inherits another's JIT
 * state, heap or sockets.
 */
import { spawn, execSync, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const NODE_ARGS = ['--expose-gc', '--import', 'tsx'];

type Child = ChildProcessByStdio<null, Readable, null>;

function start(script: string, args: string[]): Child {
  return spawn(process.execPath, [...NODE_ARGS, `${HERE}${script}`, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit']
  });
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
  /** Open WebSocket connections, as the server counts them. */
  connections(): Promise<number>;
  /** Resolves once the server holds no connection (or after `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServer(port = 0): Promise<Server> {
  const child = start('firehose-server.ts', port === 0 ? [] : ['--port', String(port)]);
  const lines = jsonLines(child);
  const first = await lines.next();
  if (first.done === true) throw new Error('firehose server exited before listening');
  const bound = Number(first.value.port);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const connections = async (): Promise<number> => {
    const response = await fetch(`http://127.0.0.1:${bound}/stats`);
    return ((await response.json()) as { connections: number }).connections;
  };
  return {
    port: bound,
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
export async function runClient(script: string, args: Array<string | number>, timeoutMs = 180_000): Promise<Record<string, unknown>> {
  const child = start(script, args.map(String));
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
export async function runInteractiveClient(
  script: string,
  args: Array<string | number>,
  onReady: () => Promise<void>,
  timeoutMs = 180_000
): Promise<Record<string, unknown>> {
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
