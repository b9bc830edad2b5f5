import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.ts';
import { replayWorkerFactory, type RecordedFrame } from '../src/examples/replay-worker.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { InboxMessage, PoolEvent, PoolOptions } from '../src/types.ts';
import { collect } from './helpers/servers.ts';

const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function replayPool(options: PoolOptions = {}): { pool: Pool; events: PoolEvent[] } {
  const pool = createPool(options);
  pools.push(pool);
  const events: PoolEvent[] = [];
  pool.actor.on('*', (event) => void events.push({ ...event, kind: event.type } as unknown as PoolEvent));
  return { pool, events };
}

async function take(pool: Pool, n: number): Promise<InboxMessage[]> {
  const messages: InboxMessage[] = [];
  for await (const message of pool.inbox) {
    messages.push(message);
    if (messages.length === n) break;
  }
  return messages;
}

const FRAMES: RecordedFrame[] = [
  { delay: 0, data: 'one' },
  { delay: 30, data: Uint8Array.of(2) },
  { delay: 30, data: 'three' }
];

describe('a replay pass', () => {
  it('connects, delivers the frames in order with their timing, and disconnects at the end', async () => {
    const { pool, events } = replayPool({ workerFactory: replayWorkerFactory({ frames: FRAMES, passes: 2 }) });
    const id = pool.connect('ws://recorded.invalid');
    const messages = await take(pool, 6);
    expect(messages.map((message) => message.data)).toEqual(['one', Uint8Array.of(2), 'three', 'one', Uint8Array.of(2), 'three']);
    expect(messages.every((message) => message.id === id)).toBe(true);
    const gaps = messages.slice(1, 3).map((message, i) => message.receivedAt - (messages[i] as InboxMessage).receivedAt);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(29);
    await expect.poll(() => events.map((event) => event.kind)).toEqual(['connected', 'disconnected', 'connected', 'disconnected', 'retired']);
    expect(events[1]).toMatchObject({ code: 1000, reason: 'end of recording', cause: 'remote_close' });
    expect(pool.peers()).toEqual([]);
    expect(pool.stats().totalReceived).toBe(6);
  });

  it('takes sends only while connected and hands them to onSend', async () => {
    const sent: unknown[] = [];
    const { pool, events } = replayPool({
      workerFactory: replayWorkerFactory({ frames: [{ delay: 10_000, data: 'late' }], onSend: (data) => sent.push(data) })
    });
    const id = pool.connect('ws://recorded.invalid');
    expect(() => pool.send(id, 'early')).toThrow(expect.objectContaining({ code: ErrorCodes.CONNECTION_UNAVAILABLE }));
    await expect.poll(() => events.length).toBe(1);
    pool.send(id, 'hi');
    expect(sent).toEqual(['hi']);
    expect(pool.peerStats(id)).toMatchObject({ state: 'connected', sent: 1, bytesOut: 2 });
  });

  it('ends with disconnected local_stop and a settled start() when removed mid-replay', async () => {
    const { pool, events } = replayPool({ workerFactory: replayWorkerFactory({ frames: [{ delay: 10_000, data: 'late' }] }) });
    const id = pool.connect('ws://recorded.invalid');
    await expect.poll(() => events.length).toBe(1);
    pool.remove(id);
    // The pool actor re-emits in a microtask after the code that reported the event.
    await Promise.resolve();
    expect(events.map((event) => event.kind)).toEqual(['connected', 'disconnected']);
    expect(events[1]).toMatchObject({ cause: 'local_stop' });
    await pool.close();
    expect(pool.stats().totalReceived).toBe(0);
  });
});

describe('backpressure', () => {
  it('holds the replay while the inbox is full and loses nothing', async () => {
    const frames = Array.from({ length: 20 }, (_, i): RecordedFrame => ({ delay: 0, data: `f${i}` }));
    const { pool } = replayPool({ inboxSize: 4, workerFactory: replayWorkerFactory({ frames }) });
    const id = pool.connect('ws://recorded.invalid');
    await expect.poll(() => pool.peerStats(id).paused).toBe(true);
    expect(pool.stats().inboxDepth).toBeLessThanOrEqual(5);
    const inbox = collect(pool.inbox);
    await expect.poll(() => inbox.items.length).toBe(20);
    expect(inbox.items.map((message) => message.data)).toEqual(frames.map((frame) => frame.data));
    expect(pool.stats().inboxDropped).toBe(0);
  });
});
