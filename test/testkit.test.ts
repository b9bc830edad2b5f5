import { describe, expect, it } from 'vitest';
import { workerMachine } from '../machines/worker-machine.ts';
import { defaultWorkerFactory } from '../src/default-worker.ts';
import { ConnectionUnavailableError } from '../src/errors.ts';
import { replayWorkerFactory } from '../src/examples/replay-worker.ts';
import { checkWorkerContract, type ContractCheckId, type ContractResult } from '../src/testkit/index.ts';
import { describeWorkerContract } from '../src/testkit/vitest.ts';
import type { Worker, WorkerFactory } from '../src/types.ts';
import { workerFromMachine } from '../src/worker-from-machine.ts';
import { badSignerLogic, nostrAuthLogic, nostrAuthPeer, probeAnsweringPeer, probeLogic } from './helpers/contract-peers.ts';
import { initialWorkerStats } from '../src/worker-stats.ts';

// The kit against every worker the library ships, then against deliberately
// broken ones to show that each check can fail.

describeWorkerContract('the default worker', defaultWorkerFactory);

describeWorkerContract('workerFromMachine(workerMachine)', workerFromMachine(workerMachine));

describeWorkerContract('the auth example (NIP-42 AUTH against a verifying relay)', workerFromMachine(nostrAuthLogic), {
  peer: nostrAuthPeer()
});

describeWorkerContract('the probe example (application-level probes instead of pings)', workerFromMachine(probeLogic), {
  peer: probeAnsweringPeer(),
  connection: { pingInterval: 20, keepaliveTimeout: 1000 }
});

describeWorkerContract(
  'the replay example (a from-scratch Worker object)',
  // The long last delay keeps the replay "connected" until the kit stops it.
  replayWorkerFactory({
    frames: [
      { delay: 0, data: 'first' },
      { delay: 5, data: Uint8Array.of(1, 2) },
      { delay: 5, data: 'third' },
      { delay: 60_000, data: 'never reached' }
    ]
  }),
  { offline: { reason: 'the replay worker opens no sockets', messages: 3 } }
);

/** Wraps the default worker, replacing some of its methods. */
function broken(patch: (inner: Worker) => Partial<Worker>): WorkerFactory {
  return (ctx, id, logger) => {
    const inner = defaultWorkerFactory(ctx, id, logger);
    return {
      start: (plugin) => inner.start(plugin),
      stop: () => inner.stop(),
      send: (data) => inner.send(data),
      stats: () => inner.stats(),
      ...patch(inner)
    };
  };
}

function failed(results: ContractResult[]): ContractCheckId[] {
  return results.filter((result) => !result.ok).map((result) => result.id);
}

const FAST = { stopTimeout: 400, connectTimeout: 2000 };

describe('checkWorkerContract', () => {
  it('returns one passing result per check for a conforming worker, with skipped checks marked', async () => {
    const results = await checkWorkerContract(defaultWorkerFactory, { skip: { 'stop.backoff': 'not under test here' } });
    expect(results).toHaveLength(13);
    expect(failed(results)).toEqual([]);
    expect(results.find((result) => result.id === 'stop.backoff')).toMatchObject({ ok: true, skipped: 'not under test here' });
  });

  it.each<[string, WorkerFactory, ContractCheckId[]]>([
    [
      'start() that never settles',
      broken((inner) => ({ start: (plugin) => inner.start(plugin).then(() => new Promise<void>(() => {})) })),
      ['stop.dialing', 'stop.backoff', 'stop.concurrent', 'stop.connected']
    ],
    [
      'send() throwing a plain Error',
      broken(() => ({
        send: () => {
          throw new Error('no socket');
        }
      })),
      ['send.unavailable', 'send.typed']
    ],
    [
      'stop() that is ignored before start()',
      (ctx, id, logger) => {
        let started = false;
        return broken((inner) => ({
          start: (plugin) => ((started = true), inner.start(plugin)),
          stop: () => started && inner.stop()
        }))(ctx, id, logger);
      },
      ['stop.before-start']
    ],
    [
      'stop() that throws when called twice',
      (() => {
        return broken((inner) => {
          let calls = 0;
          return {
            stop: () => {
              calls += 1;
              if (calls > 1) throw new Error('already stopped');
              inner.stop();
            }
          };
        });
      })(),
      ['stop.idempotent']
    ],
    ['stats() that counts every message twice', broken((inner) => ({ stats: () => ({ ...inner.stats(), received: inner.stats().received * 2 }) })), ['inbox.tagged']],
    [
      'stats() that throws once stopped',
      broken((inner) => ({
        stats: () => {
          if (inner.stats().state === 'stopped') throw new TypeError('gone');
          return inner.stats();
        }
      })),
      ['stats']
    ],
    ['an interval timer that outlives the worker', broken((inner) => ({ start: (plugin) => (setInterval(() => {}, 60_000), inner.start(plugin)) })), ['cleanup']],
    [
      'a connected event reported twice',
      broken((inner) => ({
        start: (plugin) =>
          inner.start({ ...plugin, events: { write: (event) => (plugin.events.write(event), event.kind === 'connected' && plugin.events.write(event)) } })
      })),
      ['events.alternate']
    ]
  ])('fails the matching checks for a worker with %s', async (_name, factory, expected) => {
    const results = await checkWorkerContract(factory, FAST);
    for (const id of expected) expect(failed(results), `${id} should fail`).toContain(id);
  });

  it('reports a factory that returns a Promise, and marks the other checks as not run', async () => {
    const factory = (() => Promise.resolve({})) as unknown as WorkerFactory;
    const results = await checkWorkerContract(factory, FAST);
    expect(results.find((result) => result.id === 'factory')?.error).toContain('returned a Promise');
    expect(results.find((result) => result.id === 'stop.connected')?.error).toBe('not run: the factory did not return a Worker');
  });

  it('gives a setup the URL of every peer it points a worker at', async () => {
    const urls: string[] = [];
    const results = await checkWorkerContract(
      {
        setup: (url) => {
          urls.push(url);
          return defaultWorkerFactory;
        }
      },
      FAST
    );
    expect(failed(results)).toEqual([]);
    expect(new Set(urls).size).toBe(3);
    expect(urls.every((url) => url.startsWith('ws://127.0.0.1:'))).toBe(true);
  });

  it('accepts ConnectionUnavailableError from a worker that never connects, but fails what needs a connection', async () => {
    const neverConnects: WorkerFactory = (_ctx, id) => {
      let stopped = false;
      let finish = (): void => {};
      return {
        start: () => (stopped ? Promise.resolve() : new Promise<void>((resolve) => (finish = resolve))),
        stop: () => {
          stopped = true;
          finish();
        },
        send: () => {
          throw new ConnectionUnavailableError(id, 'dialing');
        },
        stats: () => ({ ...emptyStats(), state: 'dialing' })
      };
    };
    const results = await checkWorkerContract(neverConnects, FAST);
    expect(failed(results).sort()).toEqual(['events.alternate', 'inbox.tagged', 'send.typed', 'stop.backoff', 'stop.concurrent', 'stop.connected', 'stop.dialing']);
  });

  it("names the worker's last dial_failed error when it never connects", async () => {
    const results = await checkWorkerContract(workerFromMachine(badSignerLogic), { ...FAST, peer: nostrAuthPeer() });
    const error = results.find((result) => result.id === 'stop.connected')?.error ?? '';
    expect(error).toContain('no connected event within 2000 ms');
    expect(error).toMatch(/the worker reported dial_failed (once|\d+ times), last \(attempt \d+\): ".*invalid AUTH event/);
  });
});

function emptyStats(): ReturnType<Worker['stats']> {
  return initialWorkerStats('dialing');
}
