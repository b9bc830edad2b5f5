import { describe, expect, it } from 'vitest';
import { emit, enqueueActions, sendTo, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import type { WorkerEmitted, WorkerEvent } from '../machines/worker-events.ts';
import { linkSocketLogic, type WorkerLink } from '../machines/worker-link.ts';
import { workerMachine, type WorkerTag } from '../machines/worker-machine.ts';
import { defaultWorkerFactory } from '../src/default-worker.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { PoolEvent, PoolOptions } from '../src/types.ts';
import { MachineWorker, workerFromMachine } from '../src/worker-from-machine.ts';
import { probeLogic } from './helpers/contract-peers.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';
import { refusedUrl } from './helpers/servers.ts';

const { server, pool } = usePoolFixture();

/** Custom machines that invoke their socket as an actor (`linkSocketLogic`) instead of dialing through the link. */
const invokedSocket = setup({
  types: {
    input: {} as { id: string; link: WorkerLink },
    context: {} as { id: string; link: WorkerLink },
    events: {} as WorkerEvent,
    emitted: {} as WorkerEmitted,
    tags: {} as WorkerTag
  },
  actors: { socket: linkSocketLogic }
});

/** The smallest machine that keeps the contract: one dial, no retries, no timers. */
const oneShotMachine = invokedSocket.createMachine({
  id: 'oneShot',
  context: ({ input }) => input,
  initial: 'session',
  on: { 'worker.stop': '.stopped' },
  states: {
    session: {
      invoke: { id: 'socket', src: 'socket', input: ({ context }) => context },
      initial: 'dialing',
      states: {
        dialing: { tags: 'dialing', on: { 'socket.open': 'connected', 'socket.failed': '#oneShot.gaveUp' } },
        connected: {
          tags: 'connected',
          entry: emit(({ context }) => ({ type: 'connected' as const, id: context.id, at: Date.now() })),
          on: {
            // Leaving `session` stops the socket actor, which terminates the socket. (A sendTo('socket')
            // here would target an actor this very transition stops, and put the machine in error.)
            'worker.stop': {
              target: '#oneShot.stopped',
              actions: emit(({ context }) => ({ type: 'disconnected' as const, id: context.id, at: Date.now(), code: 1000, reason: 'bye', cause: 'local_stop' as const }))
            }
          }
        }
      }
    },
    gaveUp: {
      tags: 'backoff',
      entry: emit(({ context, event }) => ({
        type: 'dial_failed' as const,
        id: context.id,
        at: Date.now(),
        attempt: 1,
        error: (event as { error?: string }).error ?? 'unknown'
      }))
    },
    stopped: { tags: 'stopped', type: 'final' }
  }
});

/** Each actor the inspector saw, as `name ← parent name`, in order of creation; the pool actor is `(pool)`. */
function actorTree(events: InspectionEvent[], poolActor: AnyActorRef): string[] {
  const name = (ref: AnyActorRef | undefined): string => (ref === undefined ? '(root)' : ref === poolActor ? '(pool)' : ref.id);
  return events
    .filter((event) => event.type === '@xstate.actor')
    .map((event) => event.actorRef as AnyActorRef & { _parent?: AnyActorRef })
    .map((ref) => `${name(ref)} ← ${name(ref._parent)}`);
}

async function treeOf(factory: PoolOptions['workerFactory']): Promise<{ tree: string[]; tags: string[]; id: string; p: Pool }> {
  const peer = await server();
  const inspected: InspectionEvent[] = [];
  const inspect = (event: InspectionEvent): void => void inspected.push(event);
  const p = pool(factory === undefined ? { inspect } : { workerFactory: factory, inspect });
  const id = p.connect(peer.url);
  const worker = (): AnyActorRef | undefined => inspected.map((event) => event.actorRef as AnyActorRef).find((ref) => ref.id === id);
  await expect.poll(() => worker()?.getSnapshot().hasTag('connected')).toBe(true);
  return { tree: actorTree(inspected, p.actor), tags: [...(worker()?.getSnapshot().tags ?? [])], id, p };
}

describe('in the pool actor tree', () => {
  it('puts a custom machine directly under the pool actor, named by the peer id, exactly where the default worker goes', async () => {
    const custom = await treeOf(workerFromMachine(probeLogic));
    const standard = await treeOf(undefined);
    const shape = (tree: string[], id: string): string[] => tree.map((line) => line.replaceAll(id, '<peer>'));
    // The probe uses the `connection` hook; the default worker has none, so no actor for it.
    // Neither has a socket actor: the socket belongs to the peer's link.
    expect(shape(custom.tree, custom.id)).toEqual(['(pool) ← (root)', '<peer> ← (pool)', 'connection ← <peer>']);
    expect(shape(standard.tree, standard.id)).toEqual(['(pool) ← (root)', '<peer> ← (pool)']);
    expect(custom.tags).toEqual(['connected']);
  });

  it('forwards its lifecycle events to pool.events and to the pool actor', async () => {
    const peer = await server();
    const p = pool({ workerFactory: workerFromMachine(oneShotMachine) });
    const fromActor: string[] = [];
    p.actor.on('*', (event) => void fromActor.push(event.type));
    const id = p.connect(peer.url);
    await expect.poll(() => fromActor).toEqual(['connected']);
    p.remove(id);
    await p.close();
    // Stopping the machine stopped its invoked linkSocketLogic, which released the link's socket.
    await expect.poll(() => peer.sockets.size).toBe(0);
    const fromStream: PoolEvent[] = [];
    for await (const event of p.events) fromStream.push(event);
    expect(fromStream).toEqual([
      { kind: 'connected', id, at: expect.any(Number) },
      { kind: 'disconnected', id, at: expect.any(Number), code: 1000, reason: 'bye', cause: 'local_stop' }
    ]);
    expect(fromActor).toEqual(['connected', 'disconnected']);
  });

  it('does not forward events a machine emits for its own listeners', async () => {
    const peer = await server();
    const chatty = workerMachine.provide({
      actions: {
        emitConnected: enqueueActions(({ context, enqueue }) => {
          enqueue.emit({ type: 'connected', id: context.id, at: context.now() });
          enqueue.emit({ type: 'note.custom' } as never);
        })
      }
    });
    const p = pool({ workerFactory: workerFromMachine(chatty) });
    const seen: string[] = [];
    p.actor.on('*', (event) => void seen.push(event.type));
    p.connect(peer.url);
    await expect.poll(() => seen).toEqual(['connected']);
  });
});

/** Opens, pings, then leaves its session after 100 ms but keeps running: only the invoked linkSocketLogic can end the socket. */
const pingThenLeave = invokedSocket.createMachine({
  id: 'pingThenLeave',
  context: ({ input }) => input,
  initial: 'session',
  on: { 'worker.stop': '.stopped' },
  states: {
    session: {
      invoke: { id: 'socket', src: 'socket', input: ({ context }) => context },
      initial: 'dialing',
      states: {
        dialing: { tags: 'dialing', on: { 'socket.open': 'open' } },
        open: { tags: 'connected', entry: sendTo('socket', { type: 'socket.ping' }), after: { 100: '#pingThenLeave.idle' } }
      }
    },
    idle: { tags: 'backoff' },
    stopped: { tags: 'stopped', type: 'final' }
  }
});

describe('linkSocketLogic, the invoked socket actor', () => {
  it('answers socket.ping, and releases the socket when the machine leaves the state that invokes it', async () => {
    const peer = await server();
    const pinged: string[] = [];
    peer.wss.on('connection', (socket) => socket.on('ping', () => pinged.push('ping')));
    const p = pool({ workerFactory: workerFromMachine(pingThenLeave) });
    const id = p.connect(peer.url);
    await expect.poll(() => pinged).toEqual(['ping']);
    await expect.poll(() => p.peerStats(id).state).toBe('backoff');
    // The worker still runs (no final state yet), so only the actor's cleanup can have closed it.
    await expect.poll(() => peer.sockets.size).toBe(0);
    expect(p.peers()).toEqual([id]);
  });
});

describe('workerFromMachine', () => {
  it('runs the default machine with one block swapped through provide()', async () => {
    const steady = workerMachine.provide({ delays: { dialDelay: 80 } });
    const p = pool({ workerFactory: workerFromMachine(steady) });
    const at: number[] = [];
    p.actor.on('dial_failed', (event) => void at.push(event.at));
    p.connect(await refusedUrl());
    await expect.poll(() => at.length).toBeGreaterThanOrEqual(3);
    // The default would retry the first failure at once; the provided delay waits every time.
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(75);
    expect((at[2] as number) - (at[1] as number)).toBeGreaterThanOrEqual(75);
  });

  it('computes the extra input per peer when given a function', async () => {
    const peer = await server();
    const ids: string[] = [];
    const p = pool({
      workerFactory: workerFromMachine(probeLogic, {
        input: (id) => {
          ids.push(id);
          return {};
        }
      })
    });
    const id = p.connect(`${peer.url}/`);
    expect(ids).toEqual([id]);
  });

  it('fills stats from the emitted events when the machine keeps no counters in its context', async () => {
    const p = pool({ workerFactory: workerFromMachine(oneShotMachine) });
    const id = p.connect(await refusedUrl());
    await expect.poll(() => p.peerStats(id).state).toBe('backoff');
    expect(p.peerStats(id)).toMatchObject({ dialFailures: 1, attempt: 1, connected: false, lastError: expect.stringContaining('ECONNREFUSED') });
  });

  it('closes the socket of a machine that fails while connected, reports peer.crashed and still closes', async () => {
    const peer = await server();
    const faulty = workerMachine.provide({
      actions: {
        emitConnected: () => {
          throw new Error('bug in a custom action');
        }
      }
    });
    const p = pool({ workerFactory: workerFromMachine(faulty) });
    const crashed: Array<{ id: string; error: unknown }> = [];
    p.actor.on('peer.crashed', (event) => void crashed.push({ id: event.id, error: event.error }));
    const opened = peer.nextConnection();
    const id = p.connect(peer.url);
    const serverSide = await opened;
    await expect.poll(() => crashed).toEqual([{ id, error: expect.objectContaining({ message: 'bug in a custom action' }) }]);
    // XState runs no exit action when a machine fails; the socket must not outlive its worker all the same.
    await expect.poll(() => serverSide.readyState).toBe(serverSide.CLOSED);
    expect(peer.sockets.size).toBe(0);
    // A finished worker leaves the registry, like a retired one.
    await expect.poll(() => p.peers()).toEqual([]);
    await p.close();
  });

  it('builds the default worker as a MachineWorker of the default logic', () => {
    const worker = defaultWorkerFactory({ signal: new AbortController().signal }, 'ws://a', createPool().id as never);
    expect(worker).toBeInstanceOf(MachineWorker);
    expect(workerMachine.id).toBe('worker');
  });

  it('rejects, at compile time, a machine whose input cannot take { id, link, timing } or lacks its extra input', () => {
    const numericId = setup({ types: { input: {} as { id: number; link: WorkerLink } } }).createMachine({});
    // @ts-expect-error the machine input must accept { id, link: WorkerLink, timing: ConnectionOptions }
    expect(typeof workerFromMachine(numericId)).toBe('function');
    const needsPort = setup({ types: { input: {} as { id: string; port: number } } }).createMachine({});
    // @ts-expect-error `port` is required, so `options.input` is too
    expect(typeof workerFromMachine(needsPort)).toBe('function');
    expect(typeof workerFromMachine(needsPort, { input: { port: 1 } })).toBe('function');
  });
});
