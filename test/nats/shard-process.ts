/**
 * One shard in its own process, for the cluster tests and the bench: started
 * with `fork(…, { execArgv: ['--import', 'tsx'] })`, configured by
 * environment, reporting over IPC. SIGTERM leaves gracefully.
 */
import { createShard } from '../../src/nats/index.ts';
import { runShardProcess } from '../helpers/shard-main.ts';

const shard = await runShardProcess(
  createShard,
  { reconnectTimeWait: 100 },
  {
    leaseTtl: 2000,
    heartbeat: 500,
    pool: { reconnectDelay: 100, retry: { initialDelay: 50, maxDelay: 500 }, inboxSize: Number(process.env.INBOX_SIZE ?? 256) }
  },
  () => clearInterval(timer)
);
const report = (): void => {
  process.send?.({ shard: shard.id, held: shard.held().size });
};
report();
const timer = setInterval(report, 100);
