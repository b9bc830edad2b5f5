/**
 * Turns the measures into the target checks of
 * `shared/design/performance.md` and a Markdown report.
 */
import type { Summary } from './harness.ts';
import type { ConnectRow, FloorRow, InboxRow, Plan, RegisterRow, StallResult, StormResult } from './measures.ts';
import type { HoldResult } from './hold.ts';
import type { VerifyResult } from './verify.ts';

export interface Results {
  inbox: InboxRow[];
  send: Record<string, Summary>;
  connect: ConnectRow[];
  register: RegisterRow[];
  storm: StormResult[];
  stall: StallResult[];
  floor?: FloorRow;
  verify?: VerifyResult;
  hold?: HoldResult;
}

/** One line of the targets table. */
export interface TargetCheck {
  measure: string;
  target: string;
  measured: string;
  /** The ratio (or value) compared with the limit. */
  value: number;
  /** Infinity for a figure that is only reported (null in bench.json). */
  limit: number;
  met: boolean;
}

// Stalled consumer: the RSS may wobble with GC, but must not keep climbing once the inbox is full.
const FLAT_MIB = 16;

type ConnectKind = 'raw' | 'honeybee' | 'partysocket' | 'nostr';

/** The better (lower median) of the two peers a user would pick instead: partysocket and nostr-tools. */
function betterPeer(of: Record<ConnectKind, Summary>): Summary {
  return of.partysocket.median <= of.nostr.median ? of.partysocket : of.nostr;
}

function bestName(of: Record<ConnectKind, Summary>): string {
  return of.partysocket.median <= of.nostr.median ? 'partysocket' : 'nostr-tools';
}

function ratio(a: Summary, b: Summary): number {
  return a.median / b.median;
}

function check(measure: string, target: string, value: number, limit: number, unit = '×'): TargetCheck {
  const digits = unit === '×' ? 2 : 1;
  return { measure, target, measured: `${value.toFixed(digits)}${unit === '×' ? '×' : ` ${unit}`}`, value, limit, met: value <= limit };
}

/** A target the measured ratio must reach (throughput: higher is better). */
function atLeast(measure: string, target: string, value: number, limit: number): TargetCheck {
  return { measure, target, measured: `${value.toFixed(2)}×`, value, limit, met: value >= limit };
}

/** The scaling targets of the verification bench: ratios of verified events/s. */
export const VERIFY_TARGETS = [
  { measure: 'verified events/s: threads × 2 / one pool (both verify every event)', of: 'threads × 2', over: 'pool', limit: 1.6 },
  { measure: 'verified events/s: NATS shards × 2 / × 1', of: 'NATS × 2', over: 'NATS × 1', limit: 1.5 }
] as const;

function verifyChecks(verify: VerifyResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const { measure, of, over, limit } of VERIFY_TARGETS) {
    const a = verify.verifiedPerSecond[of];
    const b = verify.verifiedPerSecond[over];
    if (a !== undefined && b !== undefined) checks.push(atLeast(measure, `≥ ${limit.toFixed(2)}×`, ratio(a, b), limit));
  }
  return checks;
}

/**
 * The lifecycle targets at the largest size. Decided 2026-12-07 (performance.md): every worker
 * stays an actor, so connect, heap and close are judged against the floor (raw `ws` plus one bare
 * actor per socket under a pool machine) and the better peer library is reported beside it.
 */
function lifecycleChecks(row: ConnectRow): TargetCheck[] {
  const n = row.peers;
  const checks: TargetCheck[] = [];
  const floor = FLOOR_TARGETS.flatMap(({ measure, field, limit }) => {
    const of = row[field];
    const floorValue = of['actor-pool'];
    return floorValue === undefined ? [] : [check(`${measure(n)}: honeybee / floor`, `≤ ${limit.toFixed(2)}×`, ratio(of.honeybee, floorValue), limit)];
  });
  checks.push(...floor);
  for (const { measure, field } of FLOOR_TARGETS) {
    checks.push(check(`${measure(n)}: honeybee / ${bestName(row[field])}`, '(reported)', ratio(row[field].honeybee, betterPeer(row[field])), Infinity));
  }
  if (row.connectCpuUsPerPeer['actor-pool'] !== undefined) {
    checks.push(
      check(`connect CPU per peer (${n}): honeybee / floor`, '(reported)', ratio(row.connectCpuUsPerPeer.honeybee, row.connectCpuUsPerPeer['actor-pool']), Infinity)
    );
  }
  if (row.closeCpuMs['actor-pool'] !== undefined) {
    checks.push(check(`close() CPU (${n}): honeybee / floor`, '(reported)', ratio(row.closeCpuMs.honeybee, row.closeCpuMs['actor-pool']), Infinity));
  }
  return checks;
}

/** The three lifecycle targets of performance.md, against the floor. */
export const FLOOR_TARGETS = [
  { measure: (n: number) => `time for ${n} peers to connect`, field: 'connectMs', limit: 1.1 },
  { measure: (n: number) => `heap per idle peer (${n})`, field: 'heapPerPeer', limit: 1.15 },
  { measure: (n: number) => `close() of ${n} connected peers`, field: 'closeMs', limit: 1.1 }
] as const;

/** Every target of performance.md, evaluated on one run's medians. */
export function targets(results: Results): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of results.inbox) {
    const cpu = row.cpuUsPerMessage;
    checks.push(check(`inbox CPU, ${row.peers} peer(s): honeybee (for await) / raw ws`, '≤ 1.10×', ratio(cpu.honeybee, cpu.raw), 1.1));
    checks.push(check(`inbox CPU, ${row.peers} peer(s): honeybee (batches) / raw ws`, '≤ 1.10×', ratio(cpu['honeybee-batch'], cpu.raw), 1.1));
    checks.push(check(`inbox CPU, ${row.peers} peer(s): honeybee / partysocket`, '≤ 1.00×', ratio(cpu.honeybee, cpu.partysocket), 1));
    checks.push(check(`inbox CPU, ${row.peers} peer(s): honeybee + JSON.parse / nostr-tools`, '≤ 1.00×', ratio(cpu['honeybee-parse'], cpu.nostr), 1));
  }
  const { send, connect, register } = results;
  if (send.raw !== undefined && send.honeybee !== undefined && send.partysocket !== undefined && send.nostr !== undefined) {
    checks.push(check('send CPU: pool.send / ws.send', '≤ 1.10×', ratio(send.honeybee, send.raw), 1.1));
    checks.push(check('send CPU: honeybee / partysocket', '≤ 1.00×', ratio(send.honeybee, send.partysocket), 1));
    checks.push(check('send CPU: honeybee / nostr-tools', '≤ 1.00×', ratio(send.honeybee, send.nostr), 1));
  }
  const largest = connect[connect.length - 1];
  if (largest !== undefined) checks.push(...lifecycleChecks(largest));
  const first = register[0];
  const last = register[register.length - 1];
  if (first !== undefined && last !== undefined) {
    checks.push(
      check(
        `connect CPU per peer until dialing: ${last.peers} / ${first.peers} peers`,
        '≤ 1.25× (flat)',
        ratio(last.registerCpuUsPerPeer, first.registerCpuUsPerPeer),
        1.25
      )
    );
    checks.push(
      check(`registration time per peer: ${last.peers} / ${first.peers} peers`, '(reported)', ratio(last.registerUsPerPeer, first.registerUsPerPeer), Infinity)
    );
  }
  for (const stall of results.stall) {
    checks.push(
      check(`stalled consumer (${stall.overflow}): RSS growth after the inbox filled`, `flat (< ${FLAT_MIB} MiB)`, stall.rssGrowthAfterFullMiB, FLAT_MIB, 'MiB')
    );
  }
  if (results.verify !== undefined) checks.push(...verifyChecks(results.verify));
  return checks;
}

const digits = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const cell = (s: Summary | undefined): string => (s === undefined ? '–' : `${digits(s.median)} (${digits(s.min)}–${digits(s.max)})`);
const x = (value: number): string => `${value.toFixed(2)}×`;
const KiB = (s: Summary): Summary => ({ ...s, median: s.median / 1024, min: s.min / 1024, max: s.max / 1024 });

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function inboxSection(rows: InboxRow[], plan: Plan): string {
  const body = rows.map((row) => {
    const c = row.cpuUsPerMessage;
    return [
      String(row.peers),
      cell(c.raw),
      cell(c.honeybee),
      cell(c['honeybee-batch']),
      cell(c['honeybee-parse']),
      cell(c.partysocket),
      cell(c.nostr),
      x(ratio(c.honeybee, c.raw)),
      x(ratio(c['honeybee-batch'], c.raw)),
      x(ratio(c.honeybee, c.partysocket)),
      x(ratio(c['honeybee-parse'], c.nostr))
    ];
  });
  const best = rows.map((row) => {
    const c = row.cpuUsPerMessage;
    return `${row.peers} peer(s): for await ${x(c.honeybee.min / c.raw.min)}, batches ${x(c['honeybee-batch'].min / c.raw.min)}`;
  });
  return [
    `## Inbox CPU, µs per message (${plan.inboxCount} messages per run, the first 20 % of each run not counted)`,
    '',
    `Ratios of the fastest runs (the least disturbed by other load), honeybee / raw ws: ${best.join('; ')}.`,
    '',
    table(
      [
        'peers',
        'raw ws',
        'honeybee for await',
        'honeybee batches()',
        'honeybee + JSON.parse',
        'partysocket',
        'nostr-tools',
        'hb / raw',
        'hb batches / raw',
        'hb / partysocket',
        'hb+parse / nostr'
      ],
      body
    )
  ].join('\n');
}

function sendSection(send: Record<string, Summary>, plan: Plan): string {
  const s = send as Record<'raw' | 'honeybee' | 'partysocket' | 'nostr', Summary>;
  return [
    `## Send CPU, µs per message (${plan.sendCount} messages per run, server discards)`,
    '',
    `Ratio of the fastest runs, pool.send / ws.send: ${x(s.honeybee.min / s.raw.min)}.`,
    '',
    table(
      ['raw ws.send', 'pool.send', 'partysocket', 'nostr-tools relay.send', 'hb / raw', 'hb / partysocket', 'hb / nostr'],
      [
        [
          cell(s.raw),
          cell(s.honeybee),
          cell(s.partysocket),
          cell(s.nostr),
          x(ratio(s.honeybee, s.raw)),
          x(ratio(s.honeybee, s.partysocket)),
          x(ratio(s.honeybee, s.nostr))
        ]
      ]
    )
  ].join('\n');
}

const LABELS = {
  raw: 'raw',
  honeybee: 'honeybee',
  partysocket: 'partysocket',
  nostr: 'nostr-tools',
  actor: 'floor: ws + actor',
  'actor-pool': 'floor: ws + actor + pool actor'
} as const;

function connectSection(rows: ConnectRow[]): string {
  const body: string[][] = [];
  for (const row of rows) {
    const peer = {
      connect: betterPeer(row.connectMs),
      heap: betterPeer(row.heapPerPeer),
      close: betterPeer(row.closeMs)
    };
    for (const kind of ['raw', 'honeybee', 'partysocket', 'nostr', 'actor', 'actor-pool'] as const) {
      if (row.connectMs[kind] === undefined) continue;
      body.push([
        String(row.peers),
        LABELS[kind],
        cell(row.connectMs[kind]!),
        x(ratio(row.connectMs[kind]!, peer.connect)),
        cell(row.connectCpuUsPerPeer?.[kind]),
        cell(KiB(row.heapPerPeer[kind]!)),
        x(ratio(row.heapPerPeer[kind]!, peer.heap)),
        x(ratio(row.heapPerPeer[kind]!, row.heapPerPeer.raw)),
        cell(KiB(row.rssPerPeer[kind]!)),
        cell(row.closeMs[kind]!),
        x(ratio(row.closeMs[kind]!, peer.close)),
        cell(row.closeCpuMs?.[kind])
      ]);
    }
  }
  return [
    '## Connect, idle memory, close',
    '',
    'Connect: first dial until every client is open (and the CPU time of the client process over it, per peer). Memory: two `gc()`, baseline before the first client subtracted. Close: until every socket has finished (honeybee: `await pool.close()`, every `disconnected` delivered), and its CPU time. "vs peer": against the better of partysocket and nostr-tools in that column. The floor (largest size only) is raw `ws` plus one bare XState actor per socket (handshake and heartbeat timers; open, close and close reply as events; `connected` / `disconnected` emitted) under a pool machine that re-emits each of those events, on the clock and scheduler a pool uses: the least an actor-per-peer design with a pool actor costs.',
    '',
    table(
      ['peers', 'client', 'connect ms', 'vs peer', 'connect CPU µs/peer', 'heap KiB/peer', 'vs peer', 'vs raw', 'RSS KiB/peer', 'close ms', 'vs peer', 'close CPU ms'],
      body
    )
  ].join('\n');
}

function registerSection(rows: RegisterRow[]): string {
  const base = rows[0]!.registerUsPerPeer;
  return [
    '## Registration cost per peer (a transport whose sockets never open)',
    '',
    table(
      ['peers', 'connect() µs/peer', 'connect() until dialing µs/peer', 'vs smallest', 'CPU until dialing µs/peer', 'vs smallest', 'close() ms'],
      rows.map((row) => [
        String(row.peers),
        cell(row.connectUsPerPeer),
        cell(row.registerUsPerPeer),
        x(ratio(row.registerUsPerPeer, base)),
        cell(row.registerCpuUsPerPeer),
        x(ratio(row.registerCpuUsPerPeer, rows[0]!.registerCpuUsPerPeer)),
        cell(row.closeMs)
      ])
    )
  ].join('\n');
}

function stormSection(results: StormResult[]): string {
  return [
    '## Reconnect storm (server killed and restarted)',
    '',
    table(
      ['client', 'peers', 'server down ms', 'all back ms', 'dials', 'peak dials in 1 s', 'peak dials in 100 ms', 'dials spread over ms'],
      results.map((r) => [
        r.kind,
        String(r.peers),
        r.serverDownMs.toFixed(0),
        r.allBackMs.toFixed(0),
        String(r.dials),
        String(r.peakDialsPerSecond),
        String(r.peakDialsPer100ms),
        `${r.firstDialAfterDropMs.toFixed(0)}–${r.lastDialAfterDropMs.toFixed(0)}`
      ])
    )
  ].join('\n');
}

/**
 * The least one XState actor per peer can cost, next to the raw `ws` client
 * of the connect run with as many peers: what the connect-time and heap
 * targets leave for everything a worker does.
 */
function floorSection(floor: FloorRow, connect: ConnectRow[]): string {
  const rows = (['minimal', 'minimal-invoke', 'worker'] as const).map((kind) => [
    kind,
    cell(floor.createUs[kind]),
    cell(floor.eventUs[kind]),
    cell(KiB(floor.heapPerActor[kind]))
  ]);
  const lines = [
    `## XState floor: one actor per peer, no socket (${floor.count} actors)`,
    '',
    "`minimal`: a two-state machine with one timer; `minimal-invoke`: the same invoking one callback actor (a socket adapter); `worker`: honeybee's worker machine with a test link whose socket opens on cue, ending `connected` (event: `socket.open`).",
    '',
    table(['actor', 'create + start µs', 'one event µs', 'heap KiB/actor'], rows)
  ];
  const raw = connect.find((row) => row.peers === floor.count);
  if (raw !== undefined) {
    const rawUs = (raw.connectMs.raw.median * 1000) / raw.peers;
    const rawHeap = raw.heapPerPeer.raw.median;
    const least = (kind: 'minimal' | 'minimal-invoke' | 'worker'): string => {
      const time = (rawUs + floor.createUs[kind].median + floor.eventUs[kind].median) / rawUs;
      const heap = (rawHeap + floor.heapPerActor[kind].median) / rawHeap;
      return `${kind}: connect ${x(time)}, heap ${x(heap)}`;
    };
    lines.push(
      '',
      `Raw \`ws\` at ${raw.peers} peers: ${rawUs.toFixed(0)} µs of connect time and ${(rawHeap / 1024).toFixed(2)} KiB of heap per peer. ` +
        `Adding only the actor (created, started, one event) gives, vs raw \`ws\`: ${least('minimal')}; ${least('minimal-invoke')}; ${least('worker')} ` +
        '(targets: connect ≤ 1.25×, heap ≤ 2×).'
    );
  }
  return lines.join('\n');
}

/** The verification bench: every setup's verified events/s, then its targets next to the measured ratios. */
export function verifySection(verify: VerifyResult): string {
  const pool = verify.verifiedPerSecond.pool;
  const rows = Object.entries(verify.verifiedPerSecond).map(([setup, summary]) => [
    setup === 'pool' ? 'one pool (verifies in its consumer)' : `${setup} (verify in \`process\`)`,
    cell(summary),
    pool === undefined ? '–' : x(ratio(summary, pool))
  ]);
  const targetRows = VERIFY_TARGETS.map(({ measure, of, over, limit }) => {
    const a = verify.verifiedPerSecond[of];
    const b = verify.verifiedPerSecond[over];
    const value = a === undefined || b === undefined ? undefined : ratio(a, b);
    return [measure, `≥ ${limit.toFixed(2)}×`, value === undefined ? 'not run' : x(value), value === undefined ? '—' : value >= limit ? 'yes' : '**no**'];
  });
  return [
    '## Verification: every message needs work (signed Nostr events)',
    '',
    `${verify.peers} firehose peers replay ${verify.events} distinct signed events without pause; every message is parsed afresh and checked with nostr-tools' \`verifyEvent\` (id hash and Schnorr signature): in the consumer, or in the shard module's \`process\` of the thread shards or the NATS shards (one process each; the verified events cross, to the sharded pool's inbox or over NATS to a cluster client). Verified events/s taken by the consumer over ${verify.seconds} s after a 1 s warm-up; cells are median (min–max) of the rounds; messages that failed verification: ${verify.invalid}.`,
    '',
    table(['setup', 'verified events/s', 'vs one pool'], rows),
    '',
    table(['target', 'limit', 'measured', 'met'], targetRows),
    ...(verify.notes.length === 0 ? [] : ['', ...verify.notes])
  ].join('\n');
}

/** One process holding many peers (`--only 100k`). */
export function holdSection(hold: HoldResult): string {
  const m = hold.measured;
  const n = (value: number | undefined, fraction = 1): string => (value === undefined ? '–' : value.toFixed(fraction));
  const count = (value: number): string => value.toLocaleString('en-US');
  return [
    `## One process, ${count(hold.peers)} connected peers (pings every ${hold.pingIntervalMs / 1000} s)`,
    '',
    `${count(hold.peers)} idle peers over ${hold.servers} server processes, one per loopback address (127.0.0.2 …), one honeybee pool in one client process; descriptor limit ${hold.fdLimit.before} → ${hold.fdLimit.after} (${hold.fdLimit.raisedBy}).`,
    '',
    table(
      ['measure', 'value'],
      [
        [
          'time until every peer connected',
          `${n(m.connectMs! / 1000, 1)} s (${hold.wave >= hold.peers ? 'all at once' : `in waves of ${count(hold.wave)}`}; the connect() calls: ${n(m.connectCallsMs! / 1000, 2)} s; ${count(m.dials!)} dials for ${count(hold.peers)} peers)`
        ],
        ['CPU time of that connect, per peer', `${n((m.connectCpuMs! * 1000) / hold.peers, 0)} µs`],
        ['heap per connected peer', `${n(m.heapPerPeer! / 1024, 2)} KiB (heap ${n(m.heapMiB, 0)} MiB in all)`],
        ['RSS per connected peer', `${n(m.rssPerPeer! / 1024, 2)} KiB (RSS ${n(m.rssMiB, 0)} MiB in all; ${n(m.rssIdleEndMiB, 0)} MiB after the idle time)`],
        [
          `idle CPU over ${n(m.idleSeconds, 0)} s`,
          `${n(m.idleCpuPercent, 1)} % of one core (${n(m.idleCpuUsPerPeerPerSecond, 2)} µs per peer per second); ${count(m.pingsWhileIdle!)} pings reached the servers; ${m.dropsWhileIdle} drops`
        ],
        ['event-loop delay while idle', `p99 ${n(m.eventLoopDelayP99Ms, 1)} ms, max ${n(m.eventLoopDelayMaxMs, 1)} ms`],
        ['`await pool.close()`', `${n(m.closeMs! / 1000, 2)} s (CPU ${n(m.closeCpuMs! / 1000, 2)} s); ${count(m.disconnectedEvents!)} disconnected events`]
      ]
    ),
    ...(hold.notes.length === 0 ? [] : ['', ...hold.notes])
  ].join('\n');
}

function stallSection(results: StallResult[]): string {
  return [
    '## Stalled consumer (one flooding peer, nobody reads the inbox)',
    '',
    table(
      ['overflow', 'seconds', 'inbox depth', 'messages taken in', 'RSS when full MiB', 'RSS at end MiB', 'growth after full MiB', 'RSS samples MiB'],
      results.map((r) => [
        r.overflow,
        String(r.seconds),
        String(r.inboxDepth),
        String(r.received),
        r.rssAtFullMiB.toFixed(1),
        r.rssEndMiB.toFixed(1),
        r.rssGrowthAfterFullMiB.toFixed(1),
        r.series.map((s) => s.rssMiB.toFixed(0)).join(' ')
      ])
    )
  ].join('\n');
}

/** The whole report as Markdown. */
export function markdown(header: Record<string, unknown>, machine: Record<string, string | number>, results: Results, checks: TargetCheck[], plan: Plan): string {
  const machineLine = `${machine.cpu} × ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, ulimit -n ${machine.fdLimit}`;
  const versions = `honeybee ${machine.honeybee}, ws ${machine.ws}, xstate ${machine.xstate}, partysocket ${machine.partysocket}, nostr-tools ${machine['nostr-tools']}`;
  const intro = [
    `# honeybee benchmark${plan.quick ? ' (quick smoke run: numbers are meaningless)' : ''}`,
    '',
    `- date: ${String(header.date)}; command: \`${String(header.command)}\`; took ${String(header.durationS)} s`,
    `- machine: ${machineLine}`,
    `- packages: ${versions}; honeybee measured from ${String(header.measured)}`,
    `- method: server in a child process, each client run in its own process${header.pinned === true ? ' (server pinned to CPU 0, clients to CPU 1)' : ''}, ${plan.warmup} warm-up round(s) discarded, ${plan.runs} measured rounds alternating order (${plan.connectRuns} for connect/memory/close, ${plan.registerRuns} for registration); cells are median (min–max); ratios compare medians`
  ].join('\n');
  const sections = [
    intro,
    `## Targets\n\n${table(
      ['measure', 'target', 'measured', 'met'],
      checks.map((c) => [c.measure, c.target, c.measured, c.limit === Infinity ? '—' : c.met ? 'yes' : '**no**'])
    )}`,
    results.inbox.length === 0 ? '' : inboxSection(results.inbox, plan),
    results.send.raw === undefined ? '' : sendSection(results.send, plan),
    results.connect.length === 0 ? '' : connectSection(results.connect),
    results.register.length === 0 ? '' : registerSection(results.register),
    results.storm.length === 0 ? '' : stormSection(results.storm),
    results.stall.length === 0 ? '' : stallSection(results.stall),
    results.floor === undefined ? '' : floorSection(results.floor, results.connect),
    results.verify === undefined ? '' : verifySection(results.verify),
    results.hold === undefined ? '' : holdSection(results.hold)
  ];
  return `${sections.filter((part) => part !== '').join('\n\n')}\n`;
}
