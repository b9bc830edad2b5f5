/**
 * Run by test/xstate-internals.test.ts in a child process whose `xstate` may
 * be a patched copy: two pools in turn connect peers on a loopback server and
 * close; prints one JSON line with what the test checks.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createPool } from '../../src/node.ts';
import type { Logger } from '../../src/logger.ts';
import { schedulerCanary } from '../../src/xstate-internals.ts';

const warnings: string[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  error() {},
  warn: (fields, message) => void warnings.push(message ?? String(fields)),
  child: () => logger
};
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(wss, 'listening');
const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
const pools: Array<{ sessions: string[]; closed: boolean }> = [];
for (let round = 0; round < 2; round++) {
  const pool = createPool({ logger, reconnectDelay: 50 });
  const ids = Array.from({ length: 10 }, (_, i) => pool.connect(`${url}/r${round}p${i}`));
  await Promise.all(ids.map((id) => pool.ready(id, { timeout: 5000 })));
  const sessions = [pool.actor.sessionId, ...ids.map((id) => String(pool.actor.system.get(id)?.sessionId))];
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([pool.close().then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000)))]);
  clearTimeout(timer);
  pools.push({ sessions, closed });
}
for (const socket of wss.clients) socket.terminate();
wss.close();
process.stdout.write(`${JSON.stringify({ xstate: import.meta.resolve('xstate'), canary: schedulerCanary() ?? null, warnings, pools })}\n`);
process.exit(0);
