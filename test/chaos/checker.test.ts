/**
 * The checker itself, on small hand-made histories: one that keeps every
 * promise, then that history broken one invariant at a time. A checker bug
 * that hid a violation would make one of these fail.
 */
import { describe, expect, it } from 'vitest';
import { check, formatReport, type CheckOptions } from './checker.ts';
import { sortHistory, type Rec } from './history.ts';

const LEASE = 3000;
const BEAT = 1000;

/** One connection: its open, frames every 500 ms from `open + 50`, their inbox rows (epoch, seq from 1), its close. */
function connection(c: number, p: string, shard: string, inc: number, open: number, close: number | undefined, epoch: number, until: number): Rec[] {
  const out: Rec[] = [{ src: 'peer', t: open, k: 'open', c, p, shard, inc }];
  let s = 0;
  for (let t = open + 50; t < (close ?? until); t += 500, s++) {
    out.push({ src: 'peer', t, k: 'frame', c, s });
    out.push({ src: 'inbox', t: t + 40, p, c, s, e: epoch, q: s + 1, sh: shard });
  }
  if (close !== undefined) out.push({ src: 'peer', t: close, k: 'close', c, code: 1000, sent: s });
  return out;
}

/**
 * Shards s1 (process 11) and s2 (12) hold /p0 and /p1. s1 is killed -9 at
 * 2000; s2 detects it, emits /p0's `disconnected`, claims it after the lease
 * and dials; s1 restarts (process 13) and takes /p0 back with a 50 ms gap.
 */
function good(): Rec[] {
  const nemesis = (t: number, rec: Record<string, unknown>): Rec => ({ src: 'nemesis', t, ...rec }) as Rec;
  const claim = (t: number, key: string, v: string | undefined, rev: number): Rec => ({
    src: 'kv',
    t,
    b: 'claims',
    key,
    op: v === undefined ? 'DEL' : 'PUT',
    v: v ?? '',
    rev
  });
  const event = (t: number, p: string, kind: string, e: number, q: number, sh: string, more: object = {}): Rec => ({ src: 'event', t, p, kind, e, q, sh, ...more });
  return sortHistory([
    nemesis(0, { k: 'config', seed: 7, leaseTtl: LEASE, heartbeat: BEAT, peers: 2, shards: ['s1', 's2'] }),
    nemesis(1, { k: 'spawn', shard: 's1', inc: 11 }),
    nemesis(2, { k: 'spawn', shard: 's2', inc: 12 }),
    { src: 'kv', t: 10, b: 'peers', key: '/p0', op: 'PUT', v: '{}', rev: 1 },
    { src: 'kv', t: 11, b: 'peers', key: '/p1', op: 'PUT', v: '{}', rev: 2 },
    claim(100, '/p0', 's1', 3),
    claim(110, '/p1', 's2', 4),
    ...connection(0, '/p0', 's1', 11, 150, 2001, 3, 0),
    ...connection(1, '/p1', 's2', 12, 160, undefined, 4, 9000),
    event(170, '/p0', 'connected', 3, 1, 's1'),
    event(180, '/p1', 'connected', 4, 1, 's2'),
    nemesis(2000, { k: 'start', fault: 0, kind: 'shard-kill9', target: 's1', ms: 3500 }),
    nemesis(2000, { k: 'kill', shard: 's1', inc: 11 }),
    nemesis(2005, { k: 'exit', shard: 's1', inc: 11 }),
    event(5090, '/p0', 'disconnected', 3, 2, 's2', { code: 1006, cause: 'owner_lost' }),
    claim(5100, '/p0', 's2', 5),
    ...connection(2, '/p0', 's2', 12, 5150, 7000, 5, 0),
    event(5160, '/p0', 'connected', 5, 1, 's2'),
    nemesis(5500, { k: 'heal', fault: 0, kind: 'shard-kill9', target: 's1', ms: 3500 }),
    nemesis(5500, { k: 'spawn', shard: 's1', inc: 13 }),
    nemesis(6500, { k: 'ready', shard: 's1', inc: 13 }),
    nemesis(6500, { k: 'healed', fault: 0, kind: 'shard-kill9', target: 's1', ms: 3500 }),
    event(7001, '/p0', 'disconnected', 5, 2, 's2', { code: 1000, cause: 'local_stop' }),
    claim(7005, '/p0', undefined, 6),
    claim(7010, '/p0', 's1', 7),
    ...connection(3, '/p0', 's1', 13, 7050, undefined, 7, 9000),
    event(7060, '/p0', 'connected', 7, 1, 's1'),
    nemesis(8000, { k: 'settle-start' }),
    { src: 'peer', t: 9000, k: 'quiet' },
    nemesis(10_000, { k: 'end' })
  ]);
}

const edit = (history: Rec[], change: (records: Rec[]) => Rec[]): Rec[] => sortHistory(change([...history]));
const isInbox = (c: number, s: number) => (r: Rec) => r.src === 'inbox' && r.c === c && r.s === s;
const invariants = (history: Rec[], options?: CheckOptions): string[] => [...new Set(check(history, options).violations.map((v) => v.invariant))];

describe('the chaos checker', () => {
  it('passes a history that keeps every promise, and measures it', () => {
    const report = check(good());
    expect(report.violations, formatReport(report)).toEqual([]);
    expect(report.doubles).toBe(0);
    expect(report.faults).toEqual({ 'shard-kill9': 1 });
    expect(report.perFault[0]?.reown).toBeGreaterThan(5000);
    expect(report.perFault[0]?.settle).toBeLessThan(1000);
    expect(report.rejoinGaps).toEqual([50]);
    expect(report.frames.delivered).toBeGreaterThan(20);
  });

  it('finds two connections of one peer open at once, unless one shard was paused', () => {
    const double = edit(good(), (h) => [...h, ...connection(9, '/p1', 's1', 11, 500, 1500, 3, 0)]);
    expect(invariants(double)).toContain('one connection per peer');
    expect(check(double).doubles).toBe(1);
    const paused = edit(double, (h) => [...h, { src: 'nemesis', t: 400, k: 'stop', shard: 's1', inc: 11 }, { src: 'nemesis', t: 1600, k: 'cont', shard: 's1', inc: 11 }]);
    expect(check(paused).doubles).toBe(0);
    expect(check(paused).pausedDoubles).toBe(1);
  });

  it('finds a connection that outlives its shard’s claim by more than a heartbeat, not one that loses it briefly', () => {
    const lost = edit(good(), (h) => [...h, { src: 'kv', t: 3000, b: 'claims', key: '/p1', op: 'PUT', v: 's1', rev: 8 }]);
    expect(invariants(lost)).toContain('no connection without its claim');
    const brief = edit(good(), (h) => [
      ...h,
      { src: 'kv', t: 3000, b: 'claims', key: '/p1', op: 'PUT', v: 's1', rev: 8 },
      { src: 'kv', t: 3500, b: 'claims', key: '/p1', op: 'PUT', v: 's2', rev: 9 }
    ]);
    expect(invariants(brief)).not.toContain('no connection without its claim');
  });

  it('finds a dial without the current claim', () => {
    const unclaimed = edit(good(), (h) => h.filter((r) => !(r.src === 'kv' && r.b === 'claims' && r.rev === 7)));
    expect(invariants(unclaimed)).toContain('dial only under a claim');
  });

  it('finds frames stamped with a later claim’s epoch (at publish, not at read)', () => {
    const late = edit(good(), (h) => h.map((r) => (r.src === 'inbox' && r.c === 2 && r.s === 3 ? { ...r, e: 7, q: 1 } : r)));
    expect(invariants(late)).toEqual(
      expect.arrayContaining(['frames carry the epoch of the claim their connection opened under', '(epoch, seq) orders one peer’s stream'])
    );
  });

  it('finds an epoch that goes back along a peer’s connections', () => {
    const back = edit(good(), (h) => h.map((r) => (r.src === 'inbox' && r.c === 3 ? { ...r, e: 1 } : r)));
    expect(invariants(back)).toContain('per peer, epochs only grow');
  });

  it('finds (epoch, seq) out of the peer’s real order', () => {
    const swapped = edit(good(), (h) => h.map((r) => (isInbox(1, 1)(r) ? { ...r, q: 3 } : isInbox(1, 2)(r) ? { ...r, q: 2 } : r)));
    expect(invariants(swapped)).toEqual(['(epoch, seq) orders one peer’s stream']);
  });

  it('finds a gap and a duplicate inside a connection, but takes an unchanged redelivery', () => {
    const gap = edit(good(), (h) => h.filter((r) => !isInbox(1, 2)(r)));
    expect(invariants(gap)).toContain('no gap, reorder or duplicate inside a connection');
    const copy = good().find(isInbox(1, 1)) as Extract<Rec, { src: 'inbox' }>;
    const duplicate = edit(good(), (h) => [...h, { ...copy, t: copy.t + 600, q: 99 }]);
    expect(invariants(duplicate)).toContain('no gap, reorder or duplicate inside a connection');
    const redelivery = edit(good(), (h) => [...h, { ...copy, t: copy.t + 600 }]);
    expect(check(redelivery).violations).toEqual([]);
    expect(check(redelivery).redelivered).toBe(1);
  });

  it('finds an owed frame never delivered, but not one read just before a kill -9', () => {
    const lost = edit(good(), (h) => h.filter((r) => !(r.src === 'inbox' && r.c === 1 && r.s >= 16)));
    expect(invariants(lost)).toEqual(['every acked inbox message delivered at least once']);
    const diedWithShard = edit(good(), (h) => h.filter((r) => !isInbox(0, 3)(r)));
    expect(check(diedWithShard).violations).toEqual([]);
  });

  it('lets a killed shard lose what it read after its last delivered frame, however long before the kill, but nothing before that frame', () => {
    // s1 (killed at 2000) read /p0's frames at 200, 700, 1200 and 1700; its publishing stalled (its NATS link down, say) after the first.
    const stalled = edit(good(), (h) => h.filter((r) => !(r.src === 'inbox' && r.c === 0 && r.s >= 1)));
    expect(check(stalled, { killWindow: 500 }).violations).toEqual([]);
    // Frames 2 and 3 reached the stream, so frame 1, read before them, was acked too: losing it is a violation.
    const hole = edit(good(), (h) => h.filter((r) => !isInbox(0, 1)(r)));
    expect(invariants(hole, { killWindow: 500 })).toContain('every acked inbox message delivered at least once');
  });

  it('finds a cluster that does not settle within leaseTtl + heartbeat + a dial after the heal', () => {
    const slow = edit(good(), (h) => h.map((r) => (r.src === 'peer' && r.k === 'open' && r.c === 3 ? { ...r, t: r.t + 5500 } : r)));
    expect(invariants(slow)).toContain('after a fault, every peer owned and connected within leaseTtl + heartbeat + a dial');
    const never = edit(good(), (h) => h.filter((r) => !(r.src === 'peer' && r.k === 'open' && r.c === 3)));
    expect(check(never).violations.some((v) => v.message.includes('never settled'))).toBe(true);
  });

  it('finds a peer moved between two shards the fault did not touch', () => {
    const moved = edit(good(), (h) => [
      ...h,
      { src: 'nemesis', t: 3, k: 'spawn', shard: 's3', inc: 14 },
      { src: 'kv', t: 3000, b: 'claims', key: '/p1', op: 'PUT', v: 's3', rev: 8 },
      { src: 'kv', t: 3100, b: 'claims', key: '/p1', op: 'PUT', v: 's2', rev: 9 }
    ]);
    expect(invariants(moved)).toContain('a fault of one shard moves only its share');
  });

  it('finds a peer whose connected follows connected: no disconnected after a silent death', () => {
    const silent = edit(good(), (h) => h.filter((r) => !(r.src === 'event' && r.kind === 'disconnected' && r.e === 3)));
    expect(invariants(silent)).toEqual(['connected and disconnected alternate per peer', 'a silent death still reports disconnected']);
    const wrongCode = edit(good(), (h) => h.map((r) => (r.src === 'event' && r.kind === 'disconnected' && r.e === 3 ? { ...r, code: 1000 } : r)));
    expect(invariants(wrongCode)).toEqual(['a silent death still reports disconnected']);
  });

  it('finds a rejoining shard that leaves a peer without a connection for longer than a dial', () => {
    const late = edit(good(), (h) => h.map((r) => (r.src === 'peer' && r.k === 'open' && r.c === 3 ? { ...r, t: r.t + 1100 } : r)));
    expect(invariants(late)).toContain('a rejoining shard takes its peers back within about one dial');
  });
});
