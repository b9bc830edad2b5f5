import { afterEach, describe, expect, it } from 'vitest';
import { probeSettings, probeWorker, probeWorkerMachine } from '../machines/examples/probe-worker-machine.ts';
import { createPool } from '../src/node.ts';
import type { PoolEvent } from '../src/types.ts';
import { workerFromMachine } from '../src/worker-from-machine.ts';
import { probeLogic } from './helpers/contract-peers.ts';
import { startExample } from './helpers/example-harness.ts';
import type { TimingOverrides } from './helpers/fake-socket.ts';
import { startServer } from './helpers/servers.ts';

// A probe every 100 ms; a connection silent for 150 ms (a probe unanswered for 50 ms) is dead.
function startProbe(timing: TimingOverrides = { pingInterval: 100, keepaliveTimeout: 150 }, machine = probeWorkerMachine) {
  const w = startExample(machine, { timing });
  w.fake.current.open();
  return w;
}

describe('probeSettings', () => {
  it('fills in the defaults, with an echo of the probe as its answer', () => {
    const settings = probeSettings();
    expect(settings.message).toBe('["PROBE"]');
    expect(settings.isAnswer('["PROBE"]')).toBe(true);
    expect(settings.isAnswer('["PROBE",1]')).toBe(false);
  });
});

describe('connected', () => {
  it('sends a probe every pingInterval and consumes its answer', () => {
    const w = startProbe();
    w.advance(99);
    expect(w.link.sentFrames).toEqual([]);
    w.advance(1);
    expect(w.link.sentFrames).toEqual(['["PROBE"]']);
    expect(w.link.deliver('["PROBE"]')).toBe(true);
    expect(w.tags()).toEqual(['connected']);
    w.advance(100);
    expect(w.link.sentFrames).toHaveLength(2);
    expect(w.kinds()).toEqual(['connected']);
  });

  it('declares the connection dead when it stays silent for keepaliveTimeout (a probe unanswered), then redials', () => {
    const w = startProbe();
    w.advance(100 + 49);
    expect(w.kinds()).toEqual(['connected']);
    w.advance(1);
    expect(w.events[1]).toMatchObject({ type: 'disconnected', code: 1006, reason: 'probe unanswered', cause: 'keepalive_timeout' });
    expect(w.tags()).toEqual(['backoff']);
    expect(w.fake.current.cleanedUp).toBe(true);
    w.advance(100); // reconnectDelay, plus no backoff for the first short connection
    expect(w.fake.dials).toBe(2);
  });

  it('lets frames other than the answer through to the inbox, counting them as activity like any traffic', () => {
    const w = startProbe();
    w.advance(100);
    expect(w.link.deliver('["EVENT","x",{}]')).toBe(false);
    expect(w.link.deliver(Uint8Array.of(1))).toBe(false);
    w.advance(149);
    expect(w.kinds()).toEqual(['connected']);
    w.advance(1);
    expect(w.kinds()).toEqual(['connected', 'disconnected']);
  });

  it('uses a custom probe and answer matcher', () => {
    const w = startProbe({ pingInterval: 10, keepaliveTimeout: 20 }, probeWorker({ message: 'ping?', isAnswer: (data) => data === 'pong!' }));
    w.advance(10);
    expect(w.link.sentFrames).toEqual(['ping?']);
    expect(w.link.deliver('ping?')).toBe(false);
    expect(w.link.deliver('pong!')).toBe(true);
    expect(w.tags()).toEqual(['connected']);
  });

  it('never probes with pingInterval 0, and never sends ping frames', () => {
    const w = startProbe({ pingInterval: 0 });
    w.advance(60_000);
    expect(w.link.sentFrames).toEqual([]);
    expect(w.fake.commands('socket.ping')).toEqual([]);
    expect(w.kinds()).toEqual(['connected']);
  });

  it('closes politely when stopped while a probe is out, and removes its tap', () => {
    const w = startProbe();
    w.advance(100);
    w.actor.send({ type: 'worker.stop' });
    expect(w.tags()).toEqual(['closing']);
    expect(w.events[1]).toMatchObject({ type: 'disconnected', cause: 'local_stop' });
    expect(w.link.tap).toBeUndefined();
    w.fake.current.close(1000, '', 'remote_close');
    expect(w.actor.getSnapshot().status).toBe('done');
  });
});

describe('in a pool', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps answered probes out of the inbox and reconnects when the peer stops answering', async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    let answering = true;
    let answered = 0;
    server.wss.on('connection', (socket) => {
      socket.send('hello');
      socket.on('message', (data) => {
        if (answering && data.toString() === '["PROBE"]') {
          answered += 1;
          socket.send('["PROBE"]');
        }
      });
    });
    const pool = createPool({
      reconnectDelay: 20,
      pingInterval: 20,
      keepaliveTimeout: 200,
      workerFactory: workerFromMachine(probeLogic)
    });
    cleanups.push(() => pool.close());
    const events: PoolEvent[] = [];
    pool.actor.on('*', (event) => void events.push({ ...event, kind: event.type } as unknown as PoolEvent));
    const id = pool.connect(server.url);
    await expect.poll(() => answered).toBeGreaterThanOrEqual(5);
    expect(pool.peerStats(id)).toMatchObject({ state: 'connected', received: 1 });
    answering = false;
    await expect.poll(() => events.map((event) => event.kind).slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
    expect(events[1]).toMatchObject({ cause: 'keepalive_timeout', reason: 'probe unanswered' });
    // One "hello" per connection; none of the answered probes.
    await expect.poll(() => pool.stats().totalReceived).toBe(2);
  });
});
