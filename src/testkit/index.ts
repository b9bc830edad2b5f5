import { resolveConnectOptions, resolvePoolOptions } from '../options.ts';
import type { ConnectOptions, ConnectionOptions } from '../types.ts';
import { silentLogger } from '../logger.ts';
import { wsTransport } from '../transports/ws.ts';
import { Report } from './checks.ts';
import { WorkerRun } from './harness.ts';
import { connectedLife, stopBeforeStart, stopInBackoff, stopRacingStart, stopWhileDialing, type KitEnv } from './scenarios.ts';
import { kitRefusedUrl, startKitHungPeer, startKitPeer, type KitHungPeer, type KitPeer } from './servers.ts';
import type { ContractOptions, ContractResult, ContractTarget } from './types.ts';

export { CONTRACT_CHECKS, plannedChecks } from './checks.ts';
export type { ContractCheckId, ContractOptions, ContractPeer, ContractResult, ContractTarget, KitSocket } from './types.ts';
export { createTestLink } from './test-link.ts';
export type { TestLink, TestDial } from './test-link.ts';
export { ReplayWorker, replayWorkerFactory } from '../examples/replay-worker.ts';
export type { RecordedFrame, ReplayOptions } from '../examples/replay-worker.ts';

// Fast reconnects, and a backoff long enough that "stop in backoff" really interrupts a wait.
const KIT_TIMINGS: ConnectOptions = {
  reconnectDelay: 50,
  minUptime: 0,
  handshakeTimeout: 5000,
  closeTimeout: 500,
  retry: { initialDelay: 30_000, maxDelay: 30_000, jitter: 0 }
};

function kitConnection(overrides: ConnectOptions = {}): ConnectionOptions {
  const base = resolvePoolOptions(undefined, { transport: () => wsTransport, logger: () => silentLogger }).connection;
  const retry = { ...KIT_TIMINGS.retry, ...overrides.retry };
  return resolveConnectOptions(base, { ...KIT_TIMINGS, ...overrides, retry });
}

interface KitPeers {
  peer: KitPeer;
  hung: KitHungPeer;
  refusedUrl: string;
}

async function startPeers(options: ContractOptions): Promise<KitPeers | undefined> {
  if (options.offline !== undefined) return undefined;
  const [peer, hung, refusedUrl] = await Promise.all([startKitPeer(options.peer), startKitHungPeer(), kitRefusedUrl()]);
  return { peer, hung, refusedUrl };
}

function createEnv(target: ContractTarget, options: ContractOptions, report: Report, peers: KitPeers | undefined): KitEnv {
  const connection = kitConnection(options.connection);
  const skip = options.skip ?? {};
  return {
    report,
    connection,
    stopTimeout: options.stopTimeout ?? 3000,
    connectTimeout: options.connectTimeout ?? 5000,
    messages: options.messages ?? 10,
    offlineMessages: options.offline?.messages,
    mainUrl: peers?.peer.url ?? 'ws://offline.invalid',
    peer: peers?.peer,
    // A check the caller skipped is not worth its scenario's time.
    hung: skip['stop.dialing'] === undefined ? peers?.hung : undefined,
    refusedUrl: skip['stop.backoff'] === undefined ? peers?.refusedUrl : undefined,
    open(url) {
      const factory = typeof target === 'function' ? target : target.setup(url);
      const run = WorkerRun.open(factory, url, report, connection);
      if (run === undefined) report.notRunBecause('the factory did not return a Worker');
      return run;
    }
  };
}

/**
 * Runs the worker contract checks against a worker factory and returns one
 * result per check, for any test runner to assert (`results.every((r) => r.ok)`).
 *
 * The kit starts its own peers on 127.0.0.1 port 0 (a WebSocket peer that
 * records and streams frames, a peer whose handshake hangs, a refused port),
 * hands each worker a recording fake `PoolPlugin` whose `host` is a real root
 * actor, and drives it through: stop before start, stop racing start and the
 * handshake, stop while dialing, stop in backoff, and a full connection (send,
 * receive, a peer-side close and reconnect, stop). After each run it compares
 * `process.getActiveResourcesInfo()` with the count before, so leaked sockets
 * and timers show up. Checks that need a peer can be declared inapplicable
 * with `offline`, and any check can be skipped with a reason via `skip`.
 *
 * @example
 * ```ts
 * import { checkWorkerContract } from 'honeybee-pool/testkit';
 *
 * const results = await checkWorkerContract(myWorkerFactory, { peer: { onConnection: (ws) => ws.send('hello') } });
 * for (const r of results) if (!r.ok) console.error(`✗ ${r.name}: ${r.error}`);
 * ```
 */
export async function checkWorkerContract(target: ContractTarget, options: ContractOptions = {}): Promise<ContractResult[]> {
  const report = new Report();
  const peers = await startPeers(options);
  try {
    const env = createEnv(target, options, report, peers);
    for (const scenario of [stopBeforeStart, stopRacingStart, stopWhileDialing, stopInBackoff, connectedLife]) {
      await scenario(env);
    }
  } finally {
    await Promise.all([peers?.peer.close(), peers?.hung.close()]);
  }
  return report.results(options);
}
