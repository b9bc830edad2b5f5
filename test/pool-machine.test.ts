import { describe, expect, it } from 'vitest';
import { createActor, waitFor, type AnyActorRef } from 'xstate';
import { poolMachine, type PoolEmitted } from '../machines/pool-machine.ts';

/** A promise the test settles by hand, standing in for a worker's `start()`. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function startPool() {
  const actor = createActor(poolMachine, { input: { id: 'test-pool' } });
  const emitted: PoolEmitted[] = [];
  const errors: unknown[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  /** Registers a peer whose run settles when the test says so; records the host it was given. */
  const register = (id: string) => {
    const run = deferred();
    const hosts: AnyActorRef[] = [];
    actor.send({
      type: 'pool.register',
      id,
      run: (host) => {
        hosts.push(host);
        return run.promise;
      }
    });
    return { ...run, hosts };
  };
  return { actor, emitted, errors, register, live: () => actor.getSnapshot().context.live };
}

describe('open', () => {
  it('starts open with its id and no live hosts', () => {
    const pool = startPool();
    expect(pool.actor.getSnapshot().value).toBe('open');
    expect(pool.actor.getSnapshot().context).toEqual({ id: 'test-pool', live: 0 });
  });

  it('runs each registered peer right after the registering step, given its own host actor whose parent is the pool', async () => {
    const pool = startPool();
    const a = pool.register('ws://127.0.0.1:1');
    const b = pool.register('ws://127.0.0.1:2');
    expect(a.hosts).toEqual([]);
    await Promise.resolve();
    expect(a.hosts.map((h) => h.id)).toEqual(['ws://127.0.0.1:1']);
    expect(b.hosts.map((h) => h.id)).toEqual(['ws://127.0.0.1:2']);
    expect(a.hosts[0]?._parent).toBe(pool.actor);
    expect(a.hosts[0]?.system).toBe(pool.actor.system);
    expect(pool.live()).toBe(2);
  });

  it('re-emits peer.event payloads as its own events', () => {
    const pool = startPool();
    const connected: PoolEmitted[] = [];
    pool.actor.on('connected', (event) => connected.push(event));
    pool.actor.send({ type: 'peer.event', event: { type: 'connected', id: 'ws://a', at: 5 } });
    pool.actor.send({
      type: 'peer.event',
      event: { type: 'disconnected', id: 'ws://a', at: 9, code: 1001, reason: 'bye', cause: 'remote_close' }
    });
    pool.actor.send({ type: 'peer.event', event: { type: 'dial_failed', id: 'ws://b', at: 10, attempt: 2, error: 'refused' } });
    expect(connected).toEqual([{ type: 'connected', id: 'ws://a', at: 5 }]);
    expect(pool.emitted).toEqual([
      { type: 'connected', id: 'ws://a', at: 5 },
      { type: 'disconnected', id: 'ws://a', at: 9, code: 1001, reason: 'bye', cause: 'remote_close' },
      { type: 'dial_failed', id: 'ws://b', at: 10, attempt: 2, error: 'refused' }
    ]);
  });

  it('counts a host down when its run resolves', async () => {
    const pool = startPool();
    const a = pool.register('ws://127.0.0.1:1');
    pool.register('ws://127.0.0.1:2');
    a.resolve();
    await waitFor(pool.actor, (s) => s.context.live === 1);
    expect(pool.live()).toBe(1);
    expect(pool.emitted).toEqual([]);
    expect(pool.actor.getSnapshot().value).toBe('open');
  });

  it('emits peer.crashed and stays active when a run rejects', async () => {
    const pool = startPool();
    const a = pool.register('ws://127.0.0.1:1');
    pool.register('ws://127.0.0.1:2');
    const boom = new Error('worker blew up');
    a.reject(boom);
    await waitFor(pool.actor, (s) => s.context.live === 1);
    expect(pool.emitted).toEqual([{ type: 'peer.crashed', id: 'ws://127.0.0.1:1', error: boom }]);
    expect(pool.actor.getSnapshot().status).toBe('active');
    expect(pool.actor.getSnapshot().value).toBe('open');
    expect(pool.errors).toEqual([]);
    // Still usable afterwards.
    pool.register('ws://127.0.0.1:3');
    expect(pool.live()).toBe(2);
  });
});

describe('closing', () => {
  it('enters closing on pool.close and no longer registers peers', () => {
    const pool = startPool();
    pool.register('ws://127.0.0.1:1');
    pool.actor.send({ type: 'pool.close' });
    expect(pool.actor.getSnapshot().value).toBe('closing');
    const late = pool.register('ws://127.0.0.1:2');
    expect(late.hosts).toEqual([]);
    expect(pool.live()).toBe(1);
  });

  it('keeps re-emitting peer events and counting finished hosts while closing', async () => {
    const pool = startPool();
    const a = pool.register('ws://127.0.0.1:1');
    pool.actor.send({ type: 'pool.close' });
    pool.actor.send({
      type: 'peer.event',
      event: { type: 'disconnected', id: 'ws://127.0.0.1:1', at: 3, code: 1000, reason: 'worker stopped', cause: 'local_stop' }
    });
    a.resolve();
    await waitFor(pool.actor, (s) => s.context.live === 0);
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
