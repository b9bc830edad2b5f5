/**
 * Registration cost per peer at one pool size, isolated from the network:
 * the transport's sockets never open, so what is timed is
 * `connect()` itself and the start of each peer's actors up to its dial.
 * A throwaway pool is registered and closed first so the JIT is warm and the
 * small sizes are not charged for compilation.
 *
 * Run with `--expose-gc`.
 *
 * usage: tsx register-client.ts <peers> [<warm-up peers, default 1000>]
 */
import { collectGarbage, cueTransport, emit, loadHoneybee } from './fleet.ts';

const { createPool } = await loadHoneybee();

const peers = Number(process.argv[2] ?? '1000');
const warmup = Number(process.argv[3] ?? '1000');

const urls = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, i) => `ws://127.0.0.1:9/${prefix}${i}`);

async function register(list: string[]): Promise<{ connectUs: number; startedUs: number; cpuUs: number; closeMs: number }> {
  // Sockets stuck in CONNECTING: they never report anything.
  const cue = cueTransport();
  const pool = createPool({ transport: cue.transport });
  const startCpu = process.cpuUsage();
  const started = performance.now();
  for (const url of list) pool.connect(url);
  const connectUs = (performance.now() - started) * 1000;
  while (cue.dialed < list.length) await new Promise((resolve) => setImmediate(resolve));
  const startedUs = (performance.now() - started) * 1000;
  const cpu = process.cpuUsage(startCpu);
  const closeStarted = performance.now();
  await pool.close();
  return { connectUs, startedUs, cpuUs: cpu.user + cpu.system, closeMs: performance.now() - closeStarted };
}

if (warmup > 0) await register(urls(warmup, 'warm'));
collectGarbage();
const result = await register(urls(peers, 'p'));
emit({
  peers,
  connectUsPerPeer: result.connectUs / peers,
  registerUsPerPeer: result.startedUs / peers,
  registerCpuUsPerPeer: result.cpuUs / peers,
  closeMs: result.closeMs
});
process.exit(0);
