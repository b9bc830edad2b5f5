import { afterEach, describe, expect, it } from 'vitest';
import { probeSettings, probeWorkerMachine, type ProbeSettings } from '../machines/examples/probe-worker-machine.ts';
import { createPool } from '../src/pool.ts';
import type { PoolEvent } from '../src/types.ts';
import { workerFromMachine } from '../src/worker-from-machine.ts';
import { probeLogic } from './helpers/contract-peers.ts';
import { startExample } from './helpers/example-harness.ts';
import { startServer } from './helpers/servers.ts';

function startProbe(probe: Partial<ProbeSettings> = { interval: 100, timeout: 50 }) {
  const w = startExample(probeWorkerMachine, { input: { probe } });
  w.fake.current.open();
  return w;
}

describe('probeSettings', () => {
  it('fills in the defaults, with an echo of the probe as its answer', () => {
    const settings = probeSettings();
    expect(settings).toMatchObject({ interval: 20_000, timeout: 10_000, message: '["PROBE"]' });
    expect(settings.isAnswer('["PROBE"]')).toBe(true);
    expect(settings.isAnswer('["PROBE",1]')).toBe(false);
  });
});

describe('connected', () => {
  it('sends a probe after each quiet interval and goes back to quiet on its answer', () => {
    const w = startProbe();
    w.advance(99);
    expect(w.link.sentFrames).toEqual([]);
    w.advance(1);
    expect(w.link.sentFrames).toEqual(['["PROBE"]']);
    expect(w.tags()).toEqual(['connected', 'probing']);
    expect(w.link.deliver('["PROBE"]')).toBe(true);
    expect(w.tags()).toEqual(['connected']);
    w.advance(100);
    expect(w.link.sentFrames).toHaveLength(2);
    expect(w.kinds()).toEqual(['connected']);
  });

  it('declares the connection dead when a probe goes unanswered for its timeout, then redials', () => {
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

  it('does not take other frames as an answer and lets them through to the inbox', () => {
    const w = startProbe();
    w.advance(100);
    expect(w.link.deliver('["EVENT","x",{}]')).toBe(false);
    expect(w.link.deliver(Uint8Array.of(1))).toBe(false);
    w.advance(50);
    expect(w.kinds()).toEqual(['connected', 'disconnected']);
  });

  it('uses a custom probe and answer matcher', () => {
    const w = startProbe({ interval: 10, timeout: 10, message: 'ping?', isAnswer: (data) => data === 'pong!' });
    w.advance(10);
    expect(w.link.sentFrames).toEqual(['ping?']);
    expect(w.link.deliver('ping?')).toBe(false);
    expect(w.link.deliver('pong!')).toBe(true);
    expect(w.tags()).toEqual(['connected']);
  });

  it('never probes with interval 0, and never sends ping frames', () => {
    const w = startProbe({ interval: 0 });
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
      workerFactory: workerFromMachine(probeLogic, { input: { probe: { interval: 20, timeout: 200 } } })
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
