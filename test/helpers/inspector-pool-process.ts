/**
 * A pool of N peers with the inspector, in its own process (forked with IPC,
 * `--import tsx`), so the bench's driver (Playwright, timers) does not share
 * its event loop. Environment: `CHURN_PORT`, `PEERS`. Sends `{ type: 'ready',
 * url }`, then answers `status`, `cost-start`, `cost-stop` and `close`
 * messages (see test/bench/inspector.ts).
 */
import { createInspector } from '../../src/inspector/server.ts';
import { createPool } from '../../src/node.ts';
import { drain, peerUrls } from './inspector-scale.ts';

const send = (message: object): void => void process.send?.(message);
const inspector = await createInspector();
const pool = createPool({ id: 'scale', inspect: inspector.inspect });
inspector.watch(pool);
const stopDrain = drain(pool);
for (const url of peerUrls(Number(process.env.CHURN_PORT), Number(process.env.PEERS))) pool.connect(url);
send({ type: 'ready', url: inspector.url });

let cost: { cpu: NodeJS.CpuUsage; wall: number; lags: number[]; timer: NodeJS.Timeout } | undefined;
process.on('message', (message: { type: string }) => {
  switch (message.type) {
    case 'status': {
      const peers = pool.stats().peers;
      send({
        type: 'status',
        connected: peers.filter((peer) => peer.state === 'connected').length,
        notConnected: peers.filter((peer) => peer.state !== 'connected').length
      });
      return;
    }
    case 'cost-start': {
      const lags: number[] = [];
      let expected = performance.now() + 10;
      const timer = setInterval(() => {
        const now = performance.now();
        lags.push(Math.max(0, now - expected));
        expected = now + 10;
      }, 10);
      cost = { cpu: process.cpuUsage(), wall: performance.now(), lags, timer };
      return;
    }
    case 'cost-stop': {
      if (cost === undefined) return;
      clearInterval(cost.timer);
      const cpu = process.cpuUsage(cost.cpu);
      const lags = cost.lags.sort((a, b) => a - b);
      send({
        type: 'cost',
        cpuPct: ((cpu.user + cpu.system) / 1000 / (performance.now() - cost.wall)) * 100,
        loopP99Ms: lags[Math.floor(lags.length * 0.99)] ?? 0,
        loopMaxMs: lags.at(-1) ?? 0
      });
      return;
    }
    case 'close':
      stopDrain();
      void pool
        .close()
        .then(() => inspector.close())
        .then(() => process.exit(0));
      return;
  }
});
