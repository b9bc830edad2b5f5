/**
 * The checker of the fault-injection suite: judges a history (history.ts)
 * recorded outside the library against what docs/scale-out.md promises.
 * Pure: a list of records in, a report out; it never looks at the library.
 *
 * Assumptions and tolerances (each one a named option):
 * - every process shares one clock (one host); the KV's times are the
 *   server's, the peer server's its own;
 * - the claims history is what a watcher saw: the bucket keeps one revision
 *   per key, so a claim written and overwritten while the watcher was
 *   reconnecting (right after a server restart) can be missing from it;
 * - a fault of the shards' link to NATS (server restart, cut) heals, for the
 *   recovery budget, when the shards' NATS clients are back (their first
 *   renewal after it, less a heartbeat): the clients' own reconnect wait
 *   (2 s and more with nats.js defaults) is theirs, reported apart;
 * - two connections of one peer count as a double when both are open at
 *   the peer server for more than `overlapTolerance` ms (a close and an
 *   open crossing on the wire);
 * - a shard paused (SIGSTOP) cannot close its sockets: a double or a
 *   claimless connection during a pause is outside the assumptions (a bound
 *   on pauses) and counted apart, not as a violation;
 * - frames sent after the shard's close frame reached the peer server
 *   (less 100 ms), or without one less than `closeWindow` ms before the
 *   connection closed, may die with it, and frames a shard read in the `killWindow` ms before
 *   it was `kill -9`'d (or before the newest of its frames that was delivered,
 *   whichever is earlier: it publishes in read order) may die with its process;
 *   every other frame is owed.
 */
import type { Rec } from './history.ts';
import { ONE_SHARD_KINDS } from './schedule.ts';

export interface CheckOptions {
  /** A double is two connections of one peer both open longer than this, ms. @default 100 */
  overlapTolerance?: number;
  /** How long a connection may live while its shard does not hold the peer's current claim, beyond one heartbeat, ms. @default 250 */
  claimSlack?: number;
  /** One dial, ms (the settle budget is leaseTtl + heartbeat + this). @default 1000 */
  dial?: number;
  /** Longest gap when a rejoining shard takes a peer back ("about one dial, not a heartbeat"), ms. @default heartbeat */
  rejoinGap?: number;
  /** Frames sent this close to a connection's close (when no close frame from the shard was seen) may be lost with it, ms. @default 500 */
  closeWindow?: number;
  /** Frames read this long before their shard was killed -9 may be lost with it, ms. @default 5000 */
  killWindow?: number;
  /** Grid of the recovery check, ms. @default 100 */
  step?: number;
  /** Workload changes (register/remove) exempt a peer from the settle and movement checks for this long, ms. @default heartbeat + dial */
  touchWindow?: number;
}

/** One broken invariant, with the slice of history that shows it. */
export interface Violation {
  readonly invariant: string;
  readonly message: string;
  readonly t: number;
  readonly p?: string | undefined;
  readonly slice: Rec[];
}

export interface FaultFigures {
  readonly index: number;
  readonly kind: string;
  readonly target?: string | undefined;
  /** From the fault's start until every peer was owned and connected for good, ms. */
  readonly reown: number | undefined;
  /** From the heal (for a fault of the link to NATS: from the shards' NATS clients being back) until then, ms. */
  readonly settle: number | undefined;
  /** For a fault of the link to NATS: how long after the heal the shards' NATS clients were back (their first renewal − a heartbeat), ms. */
  readonly natsBack?: number | undefined;
}

export interface Report {
  readonly seed: number | undefined;
  readonly violations: Violation[];
  /** Faults by kind. */
  readonly faults: Record<string, number>;
  readonly perFault: FaultFigures[];
  /** Points at which an invariant was evaluated (connection opens, frames, events, claim changes, recovery grid points). */
  readonly moments: number;
  /** Doubles inside the assumptions (each one is also a violation). */
  readonly doubles: number;
  /** Doubles involving a paused shard (outside the assumptions; not violations). */
  readonly pausedDoubles: number;
  /** Frames delivered again unchanged (at-least-once redelivery). */
  readonly redelivered: number;
  readonly frames: { sent: number; owed: number; delivered: number };
  /** Gaps when a rejoining shard took a peer back, ms, sorted. */
  readonly rejoinGaps: number[];
}

interface Conn {
  readonly c: number;
  readonly p: string;
  readonly shard: string;
  readonly inc: number;
  readonly open: number;
  close: number | undefined;
  /** When the shard's close frame reached the peer server (if it sent one). */
  closing?: number;
  code?: number;
  readonly frames: number[];
}

interface Claim {
  readonly t: number;
  readonly rev: number;
  readonly holder: string | undefined;
}

interface FaultSpan {
  readonly index: number;
  readonly kind: string;
  readonly target?: string | undefined;
  start: number;
  heal?: number;
  healed?: number;
}

type Of<S extends Rec['src'], K = unknown> = Extract<Rec, { src: S } & (K extends string ? { k: K } : unknown)>;

const RECOVERY = 'after a fault, every peer owned and connected within leaseTtl + heartbeat + a dial';

/** Checks a history (sorted by time); see the module comment for what is judged. */
export function check(history: readonly Rec[], options: CheckOptions = {}): Report {
  const config = history.find((r): r is Of<'nemesis', 'config'> => r.src === 'nemesis' && r.k === 'config');
  const leaseTtl = config?.leaseTtl ?? 3000;
  const heartbeat = config?.heartbeat ?? 1000;
  const overlapTolerance = options.overlapTolerance ?? 100;
  const claimSlack = options.claimSlack ?? 250;
  const dial = options.dial ?? 1000;
  const rejoinGap = options.rejoinGap ?? heartbeat;
  const closeWindow = options.closeWindow ?? 500;
  const killWindow = options.killWindow ?? 5000;
  const step = options.step ?? 100;
  const touchWindow = options.touchWindow ?? heartbeat + dial;
  const end = history.find((r) => r.src === 'nemesis' && r.k === 'end')?.t ?? history.at(-1)?.t ?? 0;
  const quiet = history.find((r) => r.src === 'peer' && r.k === 'quiet')?.t ?? end;

  const violations: Violation[] = [];
  let moments = 0;

  // --- Index the history -------------------------------------------------------------------
  const conns = new Map<number, Conn>();
  const connsOf = new Map<string, Conn[]>();
  const claims = new Map<string, Claim[]>();
  const seenRev = new Set<string>();
  const desired = new Map<string, Array<{ t: number; on: boolean }>>();
  const renewals = new Map<string, number[]>();
  const inbox = new Map<number, Array<Of<'inbox'>>>();
  const events = new Map<string, Array<Of<'event'>>>();
  const incs = new Map<number, { shard: string; spawn: number; end?: number; killed?: number; pauses: Array<[number, number]> }>();
  const cuts = new Map<string, Array<[number, number]>>();
  const spans: FaultSpan[] = [];
  for (const r of history) {
    if (r.src === 'peer') {
      if (r.k === 'open' && r.t <= end) {
        const conn: Conn = { c: r.c, p: r.p, shard: r.shard ?? '?', inc: r.inc, open: r.t, close: undefined, frames: [] };
        conns.set(r.c, conn);
        connsOf.set(r.p, [...(connsOf.get(r.p) ?? []), conn]);
      } else if (r.k === 'close') {
        const conn = conns.get(r.c);
        if (conn !== undefined && r.t <= end) {
          conn.close = r.t;
          conn.code = r.code;
        }
      } else if (r.k === 'closing') {
        const conn = conns.get(r.c);
        if (conn !== undefined && r.t <= end) conn.closing = r.t;
      } else if (r.k === 'frame') {
        const conn = conns.get(r.c);
        if (conn !== undefined) conn.frames[r.s] = r.t;
      }
    } else if (r.src === 'kv') {
      if (seenRev.has(`${r.b}/${r.rev}`)) continue;
      seenRev.add(`${r.b}/${r.rev}`);
      if (r.b === 'claims') claims.set(r.key, [...(claims.get(r.key) ?? []), { t: r.t, rev: r.rev, holder: r.op === 'PUT' ? r.v : undefined }]);
      else if (r.b === 'members' && r.op === 'PUT') renewals.set(r.key, [...(renewals.get(r.key) ?? []), r.t]);
      else if (r.b === 'peers') desired.set(r.key, [...(desired.get(r.key) ?? []), { t: r.t, on: r.op === 'PUT' }]);
    } else if (r.src === 'inbox') {
      inbox.set(r.c, [...(inbox.get(r.c) ?? []), r]);
    } else if (r.src === 'event') {
      if (r.kind === 'connected' || r.kind === 'disconnected') events.set(r.p, [...(events.get(r.p) ?? []), r]);
    } else if (r.src === 'nemesis') {
      if (r.k === 'spawn') incs.set(r.inc, { shard: r.shard, spawn: r.t, pauses: [] });
      else if (r.k === 'exit' || r.k === 'kill') {
        const inc = incs.get(r.inc);
        if (inc !== undefined) {
          inc.end = Math.min(inc.end ?? Infinity, r.t);
          if (r.k === 'kill') inc.killed = r.t;
        }
      } else if (r.k === 'stop') incs.get(r.inc)?.pauses.push([r.t, Infinity]);
      else if (r.k === 'cont') {
        const pause = incs.get(r.inc)?.pauses.at(-1);
        if (pause !== undefined) pause[1] = r.t;
      } else if (r.k === 'cut' || r.k === 'freeze') cuts.set(r.shard, [...(cuts.get(r.shard) ?? []), [r.t, Infinity]]);
      else if (r.k === 'pass') {
        const cut = cuts.get(r.shard)?.at(-1);
        if (cut !== undefined && cut[1] === Infinity) cut[1] = r.t;
      } else if (r.k === 'start') spans.push({ index: r.fault, kind: r.kind, target: r.target, start: r.t });
      else if (r.k === 'heal' || r.k === 'healed') {
        const span = spans.find((s) => s.index === r.fault);
        if (span !== undefined) span[r.k] = r.t;
      }
    }
  }
  for (const list of claims.values()) list.sort((a, b) => a.rev - b.rev);
  const inRange = (ranges: Array<[number, number]> | undefined, t: number): boolean => (ranges ?? []).some(([a, b]) => a <= t && t < b);
  const overlapWith = (ranges: Array<[number, number]>, a: number, b: number): number =>
    ranges.reduce((sum, [x, y]) => sum + Math.max(0, Math.min(b, y) - Math.max(a, x)), 0);
  const pausedDuring = (inc: number, a: number, b: number): boolean => overlapWith(incs.get(inc)?.pauses ?? [], a, b + heartbeat) > 0;
  const holderAt = (p: string, t: number): Claim | undefined => {
    let found: Claim | undefined;
    for (const claim of claims.get(p) ?? []) if (claim.t <= t) found = claim;
    return found;
  };
  const touched = (p: string, a: number, b: number): boolean => (desired.get(p) ?? []).some(({ t }) => t > a - touchWindow && t <= b);
  // The records about one peer (and the nemesis's) between two times, for a violation's slice.
  const slice = (p: string | undefined, a: number, b: number, limit = 60): Rec[] => {
    const out: Rec[] = [];
    if (violations.length >= 200) return out;
    let lo = 0;
    let hi = history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((history[mid] as Rec).t < a) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < history.length; i++) {
      const r = history[i] as Rec;
      if (r.t > b) break;
      const about =
        r.src === 'nemesis'
          ? r.k !== 'config'
          : r.src === 'peer'
            ? r.k !== 'quiet' && r.k !== 'frame' && r.k !== 'recv' && (p === undefined || conns.get(r.c)?.p === p)
            : r.src === 'kv'
              ? r.b !== 'members' && (p === undefined || r.key === p)
              : r.src === 'inbox'
                ? p !== undefined && r.p === p
                : r.src === 'event' || r.src === 'client'
                  ? p === undefined || r.p === p
                  : false;
      if (about) out.push(r);
      if (out.length >= limit) break;
    }
    return out;
  };
  const violate = (invariant: string, message: string, t: number, p: string | undefined, from = t - 2000, to = t + 1000): void => {
    violations.push({ invariant, message, t, p, slice: slice(p, from, to) });
  };
  const connEnd = (conn: Conn): number => conn.close ?? end;

  // --- Connections: at most one per peer ---------------------------------------------------
  let doubles = 0;
  let pausedDoubles = 0;
  for (const [p, list] of connsOf) {
    const sorted = [...list].sort((a, b) => a.open - b.open);
    for (let j = 0; j < sorted.length; j++) {
      moments++;
      const b = sorted[j] as Conn;
      for (let i = 0; i < j; i++) {
        const a = sorted[i] as Conn;
        const overlap = Math.min(connEnd(a), connEnd(b)) - b.open;
        if (overlap <= overlapTolerance) continue;
        if (pausedDuring(a.inc, b.open, b.open + overlap) || pausedDuring(b.inc, b.open, b.open + overlap)) {
          pausedDoubles++;
          continue;
        }
        doubles++;
        violate(
          'one connection per peer',
          `${p}: connection ${a.c} (${a.shard}) and ${b.c} (${b.shard}) both open for ${overlap} ms`,
          b.open,
          p,
          b.open - 2000,
          b.open + Math.min(overlap, 2000)
        );
      }
    }
  }

  // --- Connections: none lives without its shard holding the current claim ------------------
  for (const conn of conns.values()) {
    moments++;
    const list = claims.get(conn.p) ?? [];
    const stop = connEnd(conn);
    let holder = holderAt(conn.p, conn.open)?.holder;
    let since = holder === conn.shard ? undefined : conn.open;
    const judge = (until: number): boolean => {
      if (since === undefined) return false;
      const lasted = until - since - overlapWith(incs.get(conn.inc)?.pauses ?? [], since, until);
      if (lasted <= heartbeat + claimSlack) return false;
      violate(
        'no connection without its claim',
        `${conn.p}: connection ${conn.c} on ${conn.shard} lived ${lasted} ms while the claim was ${holder ?? 'absent'}`,
        since,
        conn.p,
        since - 1000,
        since + lasted + 500
      );
      return true;
    };
    let reported = false;
    for (const claim of list) {
      if (claim.t <= conn.open || claim.t >= stop) continue;
      holder = claim.holder;
      if (holder === conn.shard) {
        reported ||= judge(claim.t);
        since = undefined;
      } else since ??= claim.t;
    }
    if (!reported) judge(stop);
  }

  // --- Ordering ------------------------------------------------------------------------------
  let redelivered = 0;
  let delivered = 0;
  const connEpoch = new Map<number, number>();
  for (const conn of conns.values()) {
    const messages = inbox.get(conn.c) ?? [];
    // The claim current when it opened (the shard writes it before it dials; 50 ms of slack for the two clocks' order).
    let claim = holderAt(conn.p, conn.open);
    if (claim?.holder !== conn.shard) claim = (claims.get(conn.p) ?? []).find((c) => c.t > conn.open && c.t <= conn.open + 50 && c.holder === conn.shard) ?? claim;
    // A dial abandoned as it completed (closed at once, nothing read) is no connection to speak of.
    if (claim?.holder !== conn.shard && (messages.length > 0 || connEnd(conn) - conn.open > overlapTolerance)) {
      violate(
        'dial only under a claim',
        `${conn.p}: connection ${conn.c} opened by ${conn.shard} while the current claim was ${claim?.holder ?? 'absent'} (rev ${claim?.rev ?? '-'})`,
        conn.open,
        conn.p
      );
    }
    // Inside a connection: 0, 1, 2 … in arrival order; an unchanged copy is a redelivery.
    const stamps = new Map<number, string>();
    let expected = 0;
    let wrongEpoch = false;
    for (const m of messages) {
      moments++;
      const stamp = `${m.e}/${m.q}`;
      if (claim !== undefined && claim.holder === conn.shard && m.e !== claim.rev && !wrongEpoch) {
        wrongEpoch = true;
        violate(
          'frames carry the epoch of the claim their connection opened under',
          `${conn.p}: connection ${conn.c} opened under epoch ${claim.rev}, frame ${m.s} carries epoch ${m.e} (seq ${m.q})`,
          m.t,
          conn.p,
          conn.open,
          m.t + 500
        );
      }
      if (m.s === expected) {
        stamps.set(m.s, stamp);
        expected++;
        delivered++;
      } else if (m.s < expected) {
        if (stamps.get(m.s) === stamp) redelivered++;
        else
          violate(
            'no gap, reorder or duplicate inside a connection',
            `${conn.p}: connection ${conn.c} frame ${m.s} again as ${stamp} (first ${stamps.get(m.s) ?? 'never'})`,
            m.t,
            conn.p
          );
      } else {
        violate(
          'no gap, reorder or duplicate inside a connection',
          `${conn.p}: connection ${conn.c} frame ${m.s} arrived after ${expected - 1}: frames ${expected}..${m.s - 1} missing or late`,
          m.t,
          conn.p
        );
        for (let s = expected; s < m.s; s++) stamps.set(s, 'missing');
        stamps.set(m.s, stamp);
        expected = m.s + 1;
        delivered++;
      }
    }
    const first = messages[0];
    if (first !== undefined) connEpoch.set(conn.c, first.e);
  }
  for (const [p, list] of connsOf) {
    // Per peer, epochs only grow along the connections' real order.
    const sorted = [...list].sort((a, b) => a.open - b.open).filter((conn) => connEpoch.has(conn.c));
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1] as Conn;
      const b = sorted[i] as Conn;
      if ((connEpoch.get(b.c) ?? 0) < (connEpoch.get(a.c) ?? 0)) {
        violate(
          'per peer, epochs only grow',
          `${p}: connection ${b.c} (${b.shard}, epoch ${connEpoch.get(b.c)}) opened after ${a.c} (${a.shard}, epoch ${connEpoch.get(a.c)})`,
          b.open,
          p,
          a.open - 500,
          b.open + 1000
        );
      }
    }
    // (epoch, seq) orders the peer's stream: sorted by it, frames follow the real order.
    const order = new Map(list.map((conn) => [conn.c, conn.open]));
    const rows = new Map<string, Of<'inbox'>>();
    for (const conn of list) for (const m of inbox.get(conn.c) ?? []) if (!rows.has(`${m.c}/${m.s}`)) rows.set(`${m.c}/${m.s}`, m);
    const byStamp = [...rows.values()].sort((a, b) => a.e - b.e || a.q - b.q);
    for (let i = 1; i < byStamp.length; i++) {
      const a = byStamp[i - 1] as Of<'inbox'>;
      const b = byStamp[i] as Of<'inbox'>;
      if (a.e === b.e && a.q === b.q) {
        violate('(epoch, seq) orders one peer’s stream', `${p}: frames ${a.c}/${a.s} and ${b.c}/${b.s} share (epoch ${a.e}, seq ${a.q})`, b.t, p);
        continue;
      }
      const before = (order.get(a.c) ?? 0) < (order.get(b.c) ?? 0) || (a.c === b.c && a.s < b.s);
      if (!before) {
        violate(
          '(epoch, seq) orders one peer’s stream',
          `${p}: (epoch ${a.e}, seq ${a.q}) is frame ${a.c}/${a.s}, but (epoch ${b.e}, seq ${b.q}) is the earlier frame ${b.c}/${b.s}`,
          b.t,
          p
        );
      }
    }
  }

  // --- The inbox: every owed frame delivered at least once -----------------------------------
  let sent = 0;
  let owed = 0;
  // A shard publishes its inbox one acked batch at a time, in the order it read it: the newest
  // frame of a killed process that was delivered (by the peer's send time) is how far its acks
  // reached. What it read after that, or within the kill window before it or before the kill,
  // may have died unacked with it (its NATS link was down, say, for seconds before the kill).
  const ackedUpTo = new Map<number, number>();
  for (const conn of conns.values()) {
    if (incs.get(conn.inc)?.killed === undefined) continue;
    for (const m of inbox.get(conn.c) ?? []) {
      const t = conn.frames[m.s];
      if (t !== undefined) ackedUpTo.set(conn.inc, Math.max(ackedUpTo.get(conn.inc) ?? -Infinity, t));
    }
  }
  for (const conn of conns.values()) {
    const got = new Set((inbox.get(conn.c) ?? []).map((m) => m.s));
    const killed = incs.get(conn.inc)?.killed;
    const mayDie = killed === undefined ? Infinity : Math.min(killed, ackedUpTo.get(conn.inc) ?? -Infinity) - killWindow;
    const missing: number[] = [];
    conn.frames.forEach((t, s) => {
      sent++;
      // Owed up to the shard's close frame (frames crossing it may be dropped), else up to the close.
      const ended = conn.closing === undefined ? connEnd(conn) - closeWindow : conn.closing - 100;
      if (t > Math.min(ended, quiet - closeWindow)) return;
      if (killed !== undefined && t >= mayDie && t <= killed) return;
      owed++;
      if (!got.has(s)) missing.push(s);
    });
    if (missing.length > 0) {
      const t = conn.frames[missing[0] as number] as number;
      violate(
        'every acked inbox message delivered at least once',
        `${conn.p}: connection ${conn.c} on ${conn.shard}: ${missing.length} frame(s) never delivered (${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ' …' : ''})`,
        t,
        conn.p,
        t - 1000,
        t + 2000
      );
    }
  }

  // --- Recovery: after each fault, every registered peer owned and connected, for good -------
  const healthy = (inc: number, shard: string, t: number): boolean => {
    const entry = incs.get(inc);
    if (entry === undefined) return true;
    return entry.spawn <= t && (entry.end ?? Infinity) > t && !inRange(entry.pauses, t) && !inRange(cuts.get(shard), t);
  };
  const paths = new Set([...desired.keys(), ...connsOf.keys()]);
  const isDesired = (p: string, t: number): boolean => {
    let on = false;
    for (const change of desired.get(p) ?? []) if (change.t <= t) on = change.on;
    return on;
  };
  const openAt = (p: string, t: number): Conn[] => (connsOf.get(p) ?? []).filter((conn) => conn.open <= t && connEnd(conn) > t);
  const unsettled = (t: number, since: number): string | undefined => {
    for (const p of paths) {
      if (touched(p, t, t)) continue;
      const claimMoved = (claims.get(p) ?? []).find((claim) => claim.t > since && claim.t <= t);
      if (claimMoved !== undefined) return `${p}: claim changed to ${claimMoved.holder ?? 'none'} (rev ${claimMoved.rev})`;
      const open = openAt(p, t);
      if (!isDesired(p, t)) {
        if (open.length > 0) return `${p}: removed but still connected (${open[0]?.shard})`;
        continue;
      }
      if (open.length !== 1) return `${p}: ${open.length} connections`;
      const conn = open[0] as Conn;
      if (!healthy(conn.inc, conn.shard, t)) return `${p}: connected only on ${conn.shard}, which is down, paused or cut off`;
      const holder = holderAt(p, t)?.holder;
      if (holder !== conn.shard) return `${p}: connected on ${conn.shard} but claimed by ${holder ?? 'nobody'}`;
    }
    return undefined;
  };
  const perFault: FaultFigures[] = [];
  const faults: Record<string, number> = {};
  const rejoinGaps: number[] = [];
  spans.sort((a, b) => a.start - b.start);
  for (const [i, span] of spans.entries()) {
    faults[span.kind] = (faults[span.kind] ?? 0) + 1;
    const windowEnd = spans[i + 1]?.start ?? end;
    // Walk the grid backwards: the last unsettled point decides when the fault was over.
    let settledAt: number | undefined = span.start;
    let reason: string | undefined;
    for (let t = windowEnd - 1; t >= span.start; t -= step) {
      moments++;
      const why = unsettled(t, t - step);
      if (why !== undefined) {
        reason = why;
        settledAt = t + step < windowEnd ? t + step : undefined;
        break;
      }
    }
    // A fault of the shards' link to NATS (a server restart, a cut) heals for a shard when its NATS client is
    // back, after that client's own reconnect wait (nats.js: 2 s and more): seen as its first renewal after
    // the heal, which comes at most a heartbeat after the reconnect. The budget runs from there.
    let healed = span.healed ?? span.heal ?? span.start;
    const natsLink = span.kind.startsWith('nats-term') || span.kind.startsWith('nats-kill') || span.kind === 'shard-cut';
    if (natsLink) {
      const affected =
        span.kind === 'shard-cut'
          ? [span.target]
          : [...new Set([...incs.values()].filter((inc) => inc.spawn <= healed && (inc.end ?? Infinity) > healed).map((inc) => inc.shard))];
      let back = healed;
      for (const shard of affected) {
        const renewal = (renewals.get(shard ?? '') ?? []).find((t) => t > healed);
        if (renewal !== undefined) back = Math.max(back, renewal - heartbeat);
      }
      healed = back;
    }
    const budget = leaseTtl + heartbeat + dial;
    // A window that ends (the next fault starts) before the budget is over is not judged; the last one always is.
    const judged = i === spans.length - 1 || windowEnd - healed > budget + step;
    if (settledAt === undefined && !judged) {
      perFault.push({ index: span.index, kind: span.kind, target: span.target, reown: undefined, settle: undefined });
    } else if (settledAt === undefined) {
      violate(
        RECOVERY,
        `fault ${span.index} (${span.kind}${span.target ? ` on ${span.target}` : ''}) never settled before ${spans[i + 1] ? 'the next fault' : 'the end'}: ${reason}`,
        windowEnd,
        reason?.split(':')[0],
        healed - 1000,
        windowEnd
      );
    } else if (settledAt - healed > budget && windowEnd - healed > budget) {
      violate(
        RECOVERY,
        `fault ${span.index} (${span.kind}) settled ${settledAt - healed} ms after it healed (budget ${budget} ms): last ${reason}`,
        settledAt,
        reason?.split(':')[0],
        settledAt - 3000,
        settledAt + 500
      );
    }
    if (settledAt !== undefined || judged)
      perFault.push({
        index: span.index,
        kind: span.kind,
        target: span.target,
        reown: settledAt === undefined ? undefined : settledAt - span.start,
        settle: settledAt === undefined ? undefined : Math.max(0, settledAt - healed),
        natsBack: natsLink ? healed - (span.healed ?? span.heal ?? span.start) : undefined
      });

    // Movement: a fault that removes or returns one shard moves only that shard's share.
    const target = span.target;
    if (target === undefined || !(ONE_SHARD_KINDS.has(span.kind) || span.kind === 'shard-join')) continue;
    // Movement is judged only from a settled start: moves left over from an earlier fault are that fault's.
    const judgeMoves = unsettled(span.start - 1, span.start - 1 - step) === undefined;
    const until = settledAt ?? windowEnd;
    for (const [p, list] of claims) {
      let lastHolder: string | undefined;
      for (const claim of list) {
        if (claim.holder === undefined) continue;
        if (claim.t > until) break;
        if (
          judgeMoves &&
          claim.t >= span.start &&
          lastHolder !== undefined &&
          claim.holder !== lastHolder &&
          lastHolder !== target &&
          claim.holder !== target &&
          !touched(p, claim.t, claim.t)
        ) {
          moments++;
          violate(
            'a fault of one shard moves only its share',
            `fault ${span.index} (${span.kind} on ${target}): ${p} moved from ${lastHolder} to ${claim.holder} (rev ${claim.rev})`,
            claim.t,
            p
          );
        }
        // A rejoining shard takes a peer back with a gap of about one dial.
        if (claim.t >= healed && claim.holder === target && lastHolder !== target && !touched(p, claim.t - leaseTtl, claim.t)) {
          const next = (connsOf.get(p) ?? []).find((conn) => conn.shard === target && conn.open >= claim.t - 50);
          const prev =
            next === undefined
              ? undefined
              : [...(connsOf.get(p) ?? [])]
                  .filter((conn) => conn.open < next.open && conn.close !== undefined)
                  .sort((a, b) => (a.close ?? 0) - (b.close ?? 0))
                  .at(-1);
          if (next !== undefined && prev?.close !== undefined && prev.close >= healed - 50) {
            const gap = next.open - prev.close;
            rejoinGaps.push(gap);
            if (gap > rejoinGap)
              violate(
                'a rejoining shard takes its peers back within about one dial',
                `fault ${span.index} (${span.kind} on ${target}): ${p} went ${gap} ms without a connection (${prev.shard} → ${target})`,
                next.open,
                p,
                prev.close - 1000,
                next.open + 500
              );
          }
        }
        lastHolder = claim.holder;
      }
    }
  }

  // --- Events: connected and disconnected alternate per peer, ordered by (epoch, seq) ---------
  for (const [p, list] of events) {
    const unique = new Map<string, Of<'event'>>();
    for (const event of list) if (event.t <= end) unique.set(`${event.sh}/${event.e}/${event.q}/${event.kind}`, event);
    const sorted = [...unique.values()].sort((a, b) => a.e - b.e || a.q - b.q);
    let previous: Of<'event'> | undefined;
    for (const event of sorted) {
      moments++;
      if (previous?.kind === event.kind) {
        violate(
          'connected and disconnected alternate per peer',
          `${p}: ${event.kind} (${event.sh}, epoch ${event.e}, seq ${event.q}) follows ${previous.kind} (${previous.sh}, epoch ${previous.e}, seq ${previous.q}) with nothing between`,
          event.t,
          p,
          previous.t - 500,
          event.t + 500
        );
      }
      previous = event;
    }
  }

  // --- Events: a silent death (kill -9) still ends each of its peers with a disconnected, code 1006 ---
  for (const conn of conns.values()) {
    const killed = incs.get(conn.inc)?.killed;
    if (killed === undefined || conn.open > killed || connEnd(conn) < killed) continue;
    const epoch = connEpoch.get(conn.c) ?? holderAt(conn.p, conn.open)?.rev;
    moments++;
    const found = (events.get(conn.p) ?? []).filter((event) => event.kind === 'disconnected' && event.e === epoch && event.t <= end);
    if (found.length === 0) {
      violate(
        'a silent death still reports disconnected',
        `${conn.p}: ${conn.shard} was killed -9 holding it (epoch ${epoch}); no disconnected for that epoch was ever published`,
        killed,
        conn.p,
        killed - 500,
        killed + leaseTtl + heartbeat + dial
      );
    } else if (!found.some((event) => event.code === 1006)) {
      violate(
        'a silent death still reports disconnected',
        `${conn.p}: after ${conn.shard} was killed -9, its disconnected (epoch ${epoch}) has code ${found[0]?.code}, not 1006`,
        found[0]?.t ?? killed,
        conn.p
      );
    }
  }

  return {
    seed: config?.seed,
    violations,
    faults,
    perFault,
    moments,
    doubles,
    pausedDoubles,
    redelivered,
    frames: { sent, owed, delivered },
    rejoinGaps: rejoinGaps.sort((a, b) => a - b)
  };
}

/** A report as text: figures, then each violation (capped) with its slice of history. */
export function formatReport(report: Report, options: { maxViolations?: number; maxSlice?: number } = {}): string {
  const lines: string[] = [];
  const byInvariant = new Map<string, number>();
  for (const v of report.violations) byInvariant.set(v.invariant, (byInvariant.get(v.invariant) ?? 0) + 1);
  lines.push(
    `seed ${report.seed}: ${report.violations.length} violation(s); ${report.moments} moments checked; doubles ${report.doubles} (+${report.pausedDoubles} during a pause, outside the assumptions)`
  );
  lines.push(
    `  faults: ${Object.entries(report.faults)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`
  );
  for (const f of report.perFault)
    lines.push(
      `  fault ${f.index} ${f.kind}${f.target ? ` (${f.target})` : ''}: ${f.reown === undefined ? 'not settled before the next fault (not judged)' : `re-owned ${f.reown} ms after its start, settled ${f.settle} ms after its heal${f.natsBack === undefined ? '' : ` (NATS clients back ${f.natsBack} ms after it)`}`}`
    );
  lines.push(
    `  frames: ${report.frames.sent} sent, ${report.frames.owed} owed, ${report.frames.delivered} delivered, ${report.redelivered} redelivered; rejoin gaps (ms): ${report.rejoinGaps.length === 0 ? 'none' : `median ${report.rejoinGaps[report.rejoinGaps.length >> 1]}, max ${report.rejoinGaps.at(-1)}`}`
  );
  for (const [invariant, n] of byInvariant) lines.push(`  VIOLATED ${n}×: ${invariant}`);
  for (const v of report.violations.slice(0, options.maxViolations ?? 10)) {
    lines.push(`\n  ✗ ${v.invariant} at ${new Date(v.t).toISOString()}: ${v.message}`);
    for (const r of v.slice.slice(0, options.maxSlice ?? 30)) lines.push(`      ${JSON.stringify(r)}`);
  }
  if (report.violations.length > (options.maxViolations ?? 10))
    lines.push(`\n  … ${report.violations.length - (options.maxViolations ?? 10)} more violation(s) in the history file`);
  return lines.join('\n');
}

/** Figures over several runs: faults by kind, moments, doubles, the longest settle and the re-own time per kind, violations by invariant. */
export function summarize(reports: readonly Report[]): string {
  const faults: Record<string, number> = {};
  const reown = new Map<string, number[]>();
  const settle = new Map<string, number[]>();
  const violations = new Map<string, Set<number | undefined>>();
  let moments = 0;
  let doubles = 0;
  let pausedDoubles = 0;
  let count = 0;
  const gaps: number[] = [];
  for (const report of reports) {
    for (const [kind, n] of Object.entries(report.faults)) faults[kind] = (faults[kind] ?? 0) + n;
    for (const f of report.perFault) {
      if (f.reown !== undefined) reown.set(f.kind, [...(reown.get(f.kind) ?? []), f.reown]);
      if (f.settle !== undefined) settle.set(f.kind, [...(settle.get(f.kind) ?? []), f.settle]);
    }
    for (const v of report.violations) violations.set(v.invariant, (violations.get(v.invariant) ?? new Set()).add(report.seed));
    moments += report.moments;
    doubles += report.doubles;
    pausedDoubles += report.pausedDoubles;
    count += report.violations.length;
    gaps.push(...report.rejoinGaps);
  }
  const stats = (values: number[] | undefined): string => {
    if (values === undefined || values.length === 0) return 'not judged';
    const sorted = [...values].sort((a, b) => a - b);
    return `median ${sorted[sorted.length >> 1]} ms, max ${sorted.at(-1)} ms (${sorted.length} judged)`;
  };
  const lines = [
    `${reports.length} run(s): ${Object.values(faults).reduce((a, b) => a + b, 0)} faults, ${moments} moments checked, doubles ${doubles} (+${pausedDoubles} during a pause), ${count} violation(s)`
  ];
  const allSettle = [...settle.values()].flat();
  lines.push(`longest time to settle after a heal: ${allSettle.length === 0 ? 'not judged' : `${Math.max(...allSettle)} ms`}; rejoin gaps: ${stats(gaps)}`);
  for (const kind of Object.keys(faults).sort())
    lines.push(`  ${kind}: ${faults[kind]} injected; re-owned ${stats(reown.get(kind))}; settled after heal ${stats(settle.get(kind))}`);
  for (const [invariant, seeds] of violations) lines.push(`  VIOLATED: ${invariant} (seeds ${[...seeds].join(', ')})`);
  return lines.join('\n');
}
