import { describe, expect, it } from 'vitest';
import { createPool } from '../src/node.ts';
import { cueTransport } from './bench/fleet.ts';

// A burst of connect() calls starts its workers 512 per event-loop turn, so the
// replies to the first dials (and their handshake timers) are served while the
// rest dial, instead of after tens of seconds of dialing in one turn.
const SLICE = 512;
const PEERS = 1300;
const microtask = (): Promise<void> => new Promise((resolve) => queueMicrotask(resolve));
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('a burst of connect() calls', () => {
  it('dials one slice per event-loop turn, and every peer ends up dialed and connected', async () => {
    const cue = cueTransport();
    const pool = createPool({ transport: cue.transport, pingInterval: 0 });
    const ids = Array.from({ length: PEERS }, (_, i) => pool.connect(`ws://127.0.0.1:9/p${i}`));
    expect(cue.dialed).toBe(0);
    await microtask();
    expect(cue.dialed).toBe(SLICE);
    // Sockets of the first slice open before the next slice dials: their events are served in between.
    cue.openAll();
    await pool.ready(ids[0]!);
    expect(pool.peerStats(ids[SLICE - 1]!).connected).toBe(true);
    expect(cue.dialed).toBe(SLICE);
    await nextTurn();
    expect(cue.dialed).toBe(2 * SLICE);
    await nextTurn();
    expect(cue.dialed).toBe(PEERS);
    cue.openAll();
    await Promise.all(ids.map((id) => pool.ready(id)));
    expect(pool.stats().peerCount).toBe(PEERS);
    await pool.close();
  });

  it('close() between two slices ends every peer, the ones not started yet included, and dials no more', async () => {
    const cue = cueTransport();
    const pool = createPool({ transport: cue.transport, pingInterval: 0 });
    for (let i = 0; i < PEERS; i++) pool.connect(`ws://127.0.0.1:9/p${i}`);
    const late = pool.connect('ws://127.0.0.1:9/late');
    await microtask();
    expect(cue.dialed).toBe(SLICE);
    const notReady = pool.ready(late).then(
      () => 'ready',
      (error: unknown) => (error as { code?: string }).code
    );
    await pool.close();
    expect(await notReady).toBe('HONEYBEE_ERR_NOT_READY');
    expect(pool.peers()).toEqual([]);
    const dialed = cue.dialed;
    await nextTurn();
    await nextTurn();
    expect(cue.dialed).toBe(dialed);
  });

  it('a peer removed before its slice started never stays registered', async () => {
    const cue = cueTransport();
    const pool = createPool({ transport: cue.transport, pingInterval: 0 });
    const ids = Array.from({ length: PEERS }, (_, i) => pool.connect(`ws://127.0.0.1:9/p${i}`));
    await microtask();
    const last = ids[PEERS - 1]!;
    const removed = pool.remove(last);
    expect(pool.peers()).not.toContain(last);
    await nextTurn();
    await nextTurn();
    await removed;
    // Its id is free again, and the new peer dials.
    pool.connect(last);
    await nextTurn();
    expect(pool.peers()).toContain(last);
    await pool.close();
  });

  it('re-emits a burst of lifecycle events from the pool actor in order, in transitions of at most 256', async () => {
    const cue = cueTransport();
    const reports: number[] = [];
    const pool = createPool({
      transport: cue.transport,
      pingInterval: 0,
      inspect: (inspection) => {
        if (inspection.type !== '@xstate.event') return;
        const event = inspection.event as { type: string; events?: readonly unknown[] };
        if (event.type === 'peer.events') reports.push(event.events?.length ?? 0);
      }
    });
    const fromActor: string[] = [];
    pool.actor.on('connected', (event) => fromActor.push(event.id));
    const ids = Array.from({ length: SLICE }, (_, i) => pool.connect(`ws://127.0.0.1:9/p${i}`));
    await microtask();
    // Every socket of the slice opens in one turn: 512 `connected` events reported at once.
    cue.openAll();
    await Promise.all(ids.map((id) => pool.ready(id)));
    await microtask();
    expect(fromActor).toEqual(ids);
    expect(reports).toEqual([256, 256]);
    await pool.close();
  });
});
