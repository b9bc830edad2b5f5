import { describe, expect, it } from 'vitest';
import { createActor, createMachine, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { poolMachine, type PoolEmitted } from '../machines/pool-machine.ts';

function startPool() {
  const actor = createActor(poolMachine, { input: { id: 'test-pool' } });
  const emitted: PoolEmitted[] = [];
  const errors: unknown[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  /** Registers a peer, as the façade does before starting its worker; returns how to report its end. */
  const register = (id: string) => {
    actor.send({ type: 'pool.register', ids: [id] });
    return {
      finish: () => actor.send({ type: 'peer.finished', ids: [id] }),
      reject: (error: unknown) => actor.send({ type: 'peer.rejected', id, error })
    };
  };
  return { actor, emitted, errors, register, live: () => actor.getSnapshot().context.live };
}

/** A worker machine created the way MachineWorker creates one: a child of the pool actor, not spawned. */
const workerChild = (pool: AnyActorRef, id: string, logic: AnyActorLogic) => createActor(logic, { parent: pool, id }).start();

describe('open', () => {
  it('starts open with its id and no live workers', () => {
    const pool = startPool();
    expect(pool.actor.getSnapshot().value).toBe('open');
    expect(pool.actor.getSnapshot().context).toEqual({ id: 'test-pool', live: 0 });
  });

  it('counts every peer of one register event', () => {
    const pool = startPool();
    pool.actor.send({ type: 'pool.register', ids: ['ws://127.0.0.1:1', 'ws://127.0.0.1:2', 'ws://127.0.0.1:3'] });
    expect(pool.live()).toBe(3);
    pool.actor.send({ type: 'peer.finished', ids: ['ws://127.0.0.1:2'] });
    expect(pool.live()).toBe(2);
    pool.actor.send({ type: 'peer.finished', ids: ['ws://127.0.0.1:1', 'ws://127.0.0.1:3'] });
    expect(pool.live()).toBe(0);
    expect(pool.emitted).toEqual([]);
  });

  it('counts each registered worker until it is reported finished', () => {
    const pool = startPool();
    const a = pool.register('ws://127.0.0.1:1');
    pool.register('ws://127.0.0.1:2');
    expect(pool.live()).toBe(2);
    a.finish();
    expect(pool.live()).toBe(1);
    expect(pool.emitted).toEqual([]);
    expect(pool.actor.getSnapshot().value).toBe('open');
  });

  it('re-emits every payload of peer.events as its own event, in order', () => {
    const pool = startPool();
    const connected: PoolEmitted[] = [];
    pool.actor.on('connected', (event) => connected.push(event));
    pool.actor.send({
      type: 'peer.events',
      events: [
        { type: 'connected', id: 'ws://a', at: 5 },
        { type: 'disconnected', id: 'ws://a', at: 9, code: 1001, reason: 'bye', cause: 'remote_close' }
      ]
    });
    pool.actor.send({ type: 'peer.events', events: [{ type: 'dial_failed', id: 'ws://b', at: 10, attempt: 2, error: 'refused' }] });
    expect(connected).toEqual([{ type: 'connected', id: 'ws://a', at: 5 }]);
    expect(pool.emitted).toEqual([
      { type: 'connected', id: 'ws://a', at: 5 },
      { type: 'disconnected', id: 'ws://a', at: 9, code: 1001, reason: 'bye', cause: 'remote_close' },
      { type: 'dial_failed', id: 'ws://b', at: 10, attempt: 2, error: 'refused' }
    ]);
  });

  it('emits peer.crashed, counts the worker down and stays active when its start() rejected', () => {
    const pool = startPool();
    const a = pool.register('ws://127.0.0.1:1');
    pool.register('ws://127.0.0.1:2');
    const boom = new Error('worker blew up');
    a.reject(boom);
    expect(pool.live()).toBe(1);
    expect(pool.emitted).toEqual([{ type: 'peer.crashed', id: 'ws://127.0.0.1:1', error: boom }]);
    expect(pool.actor.getSnapshot().status).toBe('active');
    expect(pool.actor.getSnapshot().value).toBe('open');
    expect(pool.errors).toEqual([]);
    // Still usable afterwards.
    pool.register('ws://127.0.0.1:3');
    expect(pool.live()).toBe(2);
  });

  it('reports a worker machine child that errors as peer.crashed instead of failing itself', () => {
    const pool = startPool();
    pool.register('ws://127.0.0.1:1');
    const boom = new Error('bad action');
    const failing = createMachine({
      entry: () => {
        throw boom;
      }
    });
    const child = workerChild(pool.actor, 'ws://127.0.0.1:1', failing);
    child.subscribe({ error: () => {} });
    expect(pool.emitted).toEqual([{ type: 'peer.crashed', id: 'ws://127.0.0.1:1', error: boom }]);
    expect(pool.actor.getSnapshot().status).toBe('active');
    expect(pool.errors).toEqual([]);
    // The end is counted by the façade's peer.finished, not by the error event.
    expect(pool.live()).toBe(1);
  });

  it('ignores a worker machine child that finishes (its end arrives as peer.finished)', () => {
    const pool = startPool();
    pool.register('ws://127.0.0.1:1');
    const child = workerChild(pool.actor, 'ws://127.0.0.1:1', createMachine({ initial: 'done', states: { done: { type: 'final' } } }));
    expect(child.getSnapshot().status).toBe('done');
    expect(pool.live()).toBe(1);
    expect(pool.emitted).toEqual([]);
    expect(pool.actor.getSnapshot().status).toBe('active');
  });
});

describe('closing', () => {
  it('enters closing on pool.close and no longer registers peers', () => {
    const pool = startPool();
    pool.register('ws://127.0.0.1:1');
    pool.actor.send({ type: 'pool.close' });
    expect(pool.actor.getSnapshot().value).toBe('closing');
    pool.register('ws://127.0.0.1:2');
    expect(pool.live()).toBe(1);
  });

  it('keeps re-emitting peer events and counting finished workers while closing', () => {
    const pool = startPool();
    const a = pool.register('ws://127.0.0.1:1');
    pool.actor.send({ type: 'pool.close' });
    pool.actor.send({
      type: 'peer.events',
      events: [{ type: 'disconnected', id: 'ws://127.0.0.1:1', at: 3, code: 1000, reason: 'worker stopped', cause: 'local_stop' }]
    });
    a.finish();
    expect(pool.live()).toBe(0);
    expect(pool.emitted.map((e) => e.type)).toEqual(['disconnected']);
    expect(pool.actor.getSnapshot().value).toBe('closing');
  });

  it('is done on pool.closed', () => {
    const pool = startPool();
    pool.actor.send({ type: 'pool.close' });
    pool.actor.send({ type: 'pool.closed' });
    expect(pool.actor.getSnapshot().status).toBe('done');
    expect(pool.actor.getSnapshot().value).toBe('closed');
  });

  it('ignores pool.closed while still open', () => {
    const pool = startPool();
    pool.actor.send({ type: 'pool.closed' });
    expect(pool.actor.getSnapshot().value).toBe('open');
    expect(pool.actor.getSnapshot().status).toBe('active');
  });
});
