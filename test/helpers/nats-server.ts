import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian puts `nats-server` (often outside a normal user's PATH), then PATH. */
export function findNatsServer(): string | undefined {
  const candidates = [process.env.NATS_SERVER, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir !== '') candidates.push(join(dir, 'nats-server'));
  return candidates.find((path): path is string => path !== undefined && existsSync(path));
}

/** A port that was free a moment ago (nats-server cannot be told to pick one and report it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A nats-server with JetStream on 127.0.0.1, storing in a temp dir, that a test starts and stops. */
export interface TestNatsServer {
  readonly url: string;
  /** Stops the server (`signal`, SIGTERM by default, then SIGKILL after 3 s) and keeps its storage. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and storage. */
  start(): Promise<void>;
  /** The server's process id while it runs (to kill it if the test process dies first). */
  readonly pid: number | undefined;
  /** Stops it and deletes its storage. */
  dispose(): Promise<void>;
}

/** Starts nats-server; rejects if the binary is missing or it does not become ready. */
export async function startNatsServer(binary: string): Promise<TestNatsServer> {
  const port = await freePort();
  const storage = mkdtempSync(join(tmpdir(), 'honeybee-nats-'));
  let child: ChildProcess | undefined;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storage], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 10_000);
      proc.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${String(code)}:\n${log}`));
      });
    });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    stop,
    start,
    get pid() {
      return child?.pid;
    },
    dispose: async () => {
      await stop();
      rmSync(storage, { recursive: true, force: true });
    }
  };
}
