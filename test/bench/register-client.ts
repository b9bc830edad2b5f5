/**
 * Registration cost per peer at one pool size, isolated from the network:
 * the dialer returns a socket that never opens, so what is timed is
 * `connect()` itself and the start of each peer's actors up to its dial.
 * A throwaway pool is registered and closed first so the JIT is warm and the
 * small sizes are not charged for compilation.
 *
 * Run with `--expose-gc`.
 *
 * usage: tsx register-client.ts <peers> [<warm-up peers, default 1000>]
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { Dialer } from '../../src/index.ts';
import { collectGarbage, emit, loadHoneybee } from './fleet.ts';

const { createPool } = await loadHoneybee();

const peers = Number(process.argv[2] ?? '1000');
const warmup = Number(process.argv[3] ?? '1000');

/** A socket stuck in CONNECTING: it never emits anything. */
class HungSocket extends EventEmitter {
  readyState = 0;
  bufferedAmount = 0;
  terminate(): void {
    this.readyState = 3;
  }
  close(): void {}
  pause(): void {}
  resume(): void {}
  ping(): void {}
  send(): void {}
}

const urls = (count: number, prefix: string): string[] =>
  Array.from({ length: count }, (_, i) => `ws://127.0.0.1:9/${prefix}${i}`);

async function register(list: string[]): Promise<{ connectUs: number; startedUs: number; closeMs: number }> {
  let dialed = 0;
  const dialer: Dialer = () => {
    dialed++;
    return new HungSocket() as unknown as WebSocket;
  };
  const pool = createPool({ dialer });
  const started = performance.now();
  for (const url of list) pool.connect(url);
  const connectUs = (performance.now() - started) * 1000;
  while (dialed < list.length) await new Promise((resolve) => setImmediate(resolve));
  const startedUs = (performance.now() - started) * 1000;
  const closeStarted = performance.now();
  await pool.close();
  return { connectUs, startedUs, closeMs: performance.now() - closeStarted };
}

if (warmup > 0) await register(urls(warmup, 'warm'));
collectGarbage();
const result = await register(urls(peers, 'p'));
emit({
  peers,
  connectUsPerPeer: result.connectUs / peers,
  registerUsPerPeer: result.startedUs / peers,
  closeMs: result.closeMs
});
process.exit(0);
