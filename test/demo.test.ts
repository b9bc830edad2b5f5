import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.ts';
import { parseArgs, parseDuration } from '../src/demo/args.ts';
import { formatCauses, formatLastEvent, formatStatus, formatSummary, formatTable, type StatusRow } from '../src/demo/format.ts';
import { startDemoPeers } from '../src/demo/peers.ts';
import { createScreen } from '../src/demo/screen.ts';
import { createTally, restarts, recordEvent } from '../src/demo/tally.ts';
import type { PoolEvent } from '../src/types.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ID = 'ws://127.0.0.1:1234';
const NOW = 1_700_000_010_000;

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a hung demo can be killed with npx and tsx in between.
    const child = spawn('npx', ['tsx', 'src/demo/main.ts', ...args], { cwd: ROOT, detached: true });
    const guard = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 28_000);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The summary row of one peer: `name  messages  connects  restarts  dial fails  causes`. */
function summaryRow(stdout: string, name: string): { messages: number; connects: number; causes: string } {
  const summary = stdout.slice(stdout.indexOf('summary after'));
  const match = new RegExp(`^\\s+${name}\\s+([\\d,]+)\\s+(\\d+)\\s+\\d+\\s+\\d+\\s+(.*)$`, 'm').exec(summary);
  if (!match) throw new Error(`no summary row for ${name} in:\n${stdout}`);
  return { messages: Number(match[1]?.replace(/,/g, '')), connects: Number(match[2]), causes: match[3] ?? '' };
}

function row(overrides: Partial<StatusRow> = {}): StatusRow {
  return { name: 'steady', state: 'connected', messages: 0, rate: 0, restarts: 0, dialFailures: 0, lastEvent: undefined, ...overrides };
}

describe('parseArgs', () => {
  it('runs until a signal, on the embedded peers, when given no arguments', () => {
    expect(parseArgs([])).toEqual({ kind: 'run', durationMs: undefined, urls: [] });
  });

  it('reads --duration in seconds, as a separate or an inline value', () => {
    expect(parseArgs(['--duration', '8'])).toEqual({ kind: 'run', durationMs: 8000, urls: [] });
    expect(parseArgs(['--duration=0.5'])).toEqual({ kind: 'run', durationMs: 500, urls: [] });
  });

  it('collects every --url in order', () => {
    const command = parseArgs(['--url', 'wss://a.example/x', '--url=ws://b.example:8080']);
    expect(command).toEqual({ kind: 'run', durationMs: undefined, urls: ['wss://a.example/x', 'ws://b.example:8080'] });
  });

  it('returns help for --help and -h, even after other arguments', () => {
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--duration', '3', '-h'])).toEqual({ kind: 'help' });
  });

  it.each([['0'], ['-1'], ['abc'], ['Infinity'], ['']])('rejects --duration %j', (value) => {
    expect(parseArgs(['--duration', value])).toMatchObject({ kind: 'invalid', message: expect.stringContaining('--duration') });
  });

  it('says that 0 is not allowed when refusing --duration 0', () => {
    expect(parseArgs(['--duration', '0'])).toEqual({
      kind: 'invalid',
      message: '--duration must be a number of seconds above 0 and at most 2147483, got "0"'
    });
  });

  it('rejects a --duration with no value', () => {
    expect(parseArgs(['--duration'])).toEqual({ kind: 'invalid', message: '--duration needs a number of seconds' });
  });

  it('rejects unknown arguments by name', () => {
    expect(parseArgs(['--verbose'])).toEqual({ kind: 'invalid', message: 'unknown argument "--verbose"' });
  });

  it("reports a bad --url with the library's typed error message and code", () => {
    const command = parseArgs(['--url', 'http://user:secret@relay.example']);
    expect(command.kind).toBe('invalid');
    const message = command.kind === 'invalid' ? command.message : '';
    expect(message).toContain('Invalid peer URL');
    expect(message).toContain('the scheme must be ws: or wss:');
    expect(message).toContain(ErrorCodes.INVALID_URL);
    expect(message).not.toContain('secret');
  });

  it('rejects a --url that normalizes to one already given', () => {
    const command = parseArgs(['--url', 'ws://a.example/', '--url', 'WS://A.example:80']);
    expect(command).toMatchObject({ kind: 'invalid', message: expect.stringContaining('already given') });
  });

  it('takes --shards as a whole number of threads, and refuses it with --inspect', () => {
    expect(parseArgs(['--shards', '2'])).toEqual({ kind: 'run', durationMs: undefined, urls: [], shards: 2 });
    expect(parseArgs(['--shards=0'])).toMatchObject({ kind: 'invalid', message: expect.stringContaining('--shards') });
    expect(parseArgs(['--shards', '1.5'])).toMatchObject({ kind: 'invalid', message: expect.stringContaining('--shards') });
    expect(parseArgs(['--shards', '2', '--inspect'])).toMatchObject({ kind: 'invalid', message: expect.stringContaining('cannot be combined') });
  });
});

describe('parseDuration', () => {
  it('rounds seconds to whole milliseconds', () => {
    expect(parseDuration('1.2345')).toBe(1235);
  });

  it('refuses durations setTimeout cannot wait for', () => {
    expect(typeof parseDuration('3000000')).toBe('string');
  });
});

describe('tally', () => {
  it('counts connects, restarts, disconnects by cause and dial failures, and keeps the last event', () => {
    const tally = createTally('flaky');
    const events: PoolEvent[] = [
      { kind: 'dial_failed', id: ID, at: 1, attempt: 1, error: 'refused' },
      { kind: 'connected', id: ID, at: 2 },
      { kind: 'disconnected', id: ID, at: 3, code: 1001, reason: 'going away', cause: 'remote_close' },
      { kind: 'connected', id: ID, at: 4 },
      { kind: 'disconnected', id: ID, at: 5, code: 1006, reason: '', cause: 'network_error' },
      { kind: 'connected', id: ID, at: 6 }
    ];
    for (const event of events) recordEvent(tally, event);
    expect(tally).toMatchObject({ connects: 3, dialFailures: 1, disconnects: { remote_close: 1, network_error: 1 } });
    expect(restarts(tally)).toBe(2);
    expect(tally.lastEvent).toBe(events[5]);
  });

  it('marks a peer retired', () => {
    const tally = createTally('gone');
    recordEvent(tally, { kind: 'retired', id: ID, at: 1, attempts: 5 });
    expect(tally.retired).toBe(true);
    expect(restarts(tally)).toBe(0);
  });
});

describe('formatLastEvent', () => {
  it.each<[PoolEvent, string]>([
    [{ kind: 'connected', id: ID, at: NOW - 1500 }, 'connected 1.5s ago'],
    [
      { kind: 'disconnected', id: ID, at: NOW - 200, code: 1006, reason: 'keepalive timeout', cause: 'keepalive_timeout' },
      'disconnected keepalive_timeout (1006) 0.2s ago'
    ],
    [{ kind: 'dial_failed', id: ID, at: NOW, attempt: 3, error: 'connect ECONNREFUSED' }, 'dial_failed #3 0.0s ago: connect ECONNREFUSED'],
    [{ kind: 'retired', id: ID, at: NOW - 1000, attempts: 5 }, 'retired after 5 attempts 1.0s ago']
  ])('describes %j', (event, text) => {
    expect(formatLastEvent(event, NOW)).toBe(text);
  });

  it('shows a dash before the first event', () => {
    expect(formatLastEvent(undefined, NOW)).toBe('-');
  });

  it('shortens long dial errors to keep the line readable', () => {
    const text = formatLastEvent({ kind: 'dial_failed', id: ID, at: NOW, attempt: 1, error: 'x'.repeat(200) }, NOW);
    expect(text.length).toBeLessThan(80);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('formatTable', () => {
  it('pads columns to their widest cell, right-aligning numbers, with no trailing spaces', () => {
    const lines = formatTable(
      ['NAME', 'N', 'NOTE'],
      [
        ['a', '1,234', ''],
        ['long', '5', 'x']
      ],
      ['left', 'right', 'left']
    );
    expect(lines).toEqual(['NAME      N  NOTE', 'a     1,234', 'long      5  x']);
  });
});

describe('formatStatus', () => {
  it('heads the block with elapsed time, peers connected and total messages, then one line per peer', () => {
    const rows = [
      row({ name: 'steady', messages: 150, rate: 50, lastEvent: { kind: 'connected', id: ID, at: NOW - 3000 } }),
      row({ name: 'late', state: 'backoff', dialFailures: 4, lastEvent: { kind: 'dial_failed', id: ID, at: NOW, attempt: 4, error: 'refused' } })
    ];
    const lines = formatStatus(rows, 3000, NOW);
    expect(lines[0]).toBe('[  3.0s] 2 peers, 1 connected, 150 messages (50/s)');
    expect(lines[1]).toMatch(/^ {2}PEER +STATE +MESSAGES +MSG\/S +RESTARTS +DIAL FAILS +LAST EVENT$/);
    expect(lines[2]).toMatch(/^ {2}steady +connected +150 +50 +0 +0 +connected 3\.0s ago$/);
    expect(lines[3]).toMatch(/^ {2}late +backoff +0 +0 +0 +4 +dial_failed #4 0\.0s ago: refused$/);
  });

  it('says "1 peer" and "1 message" in the singular', () => {
    const lines = formatStatus([row({ messages: 1 })], 1000, NOW);
    expect(lines[0]).toBe('[  1.0s] 1 peer, 1 connected, 1 message (0/s)');
  });
});

describe('formatSummary', () => {
  it('lists disconnects by cause in a fixed order', () => {
    expect(formatCauses({ local_stop: 1, keepalive_timeout: 2, remote_close: 1 })).toBe('remote_close 1, keepalive_timeout 2, local_stop 1');
    expect(formatCauses({})).toBe('-');
  });

  it('prints one row per peer and a total row', () => {
    const steady = createTally('steady');
    steady.messages = 1500;
    recordEvent(steady, { kind: 'connected', id: ID, at: 1 });
    const silent = createTally('silent');
    silent.messages = 2;
    recordEvent(silent, { kind: 'connected', id: ID, at: 1 });
    recordEvent(silent, { kind: 'disconnected', id: ID, at: 2, code: 1006, reason: '', cause: 'keepalive_timeout' });
    recordEvent(silent, { kind: 'connected', id: ID, at: 3 });
    const lines = formatSummary([steady, silent], 8000);
    expect(lines[0]).toBe('summary after 8.0s:');
    expect(lines[2]).toMatch(/^ {2}steady +1,500 +1 +0 +0 +-$/);
    expect(lines[3]).toMatch(/^ {2}silent +2 +2 +1 +0 +keepalive_timeout 1$/);
    expect(lines[4]).toMatch(/^ {2}TOTAL +1,502 +3 +1 +0 +1 disconnect$/);
  });
});

describe('createScreen', () => {
  function fakeOut(isTTY: boolean, columns = 80): { isTTY: boolean; columns: number; text: string; write(t: string): void } {
    return {
      isTTY,
      columns,
      text: '',
      write(t) {
        this.text += t;
      }
    };
  }

  it('keeps every block, separated by a blank line, when not on a terminal', () => {
    const out = fakeOut(false);
    const screen = createScreen(out);
    screen.draw(['a', 'b']);
    screen.draw(['c']);
    expect(out.text).toBe('a\nb\n\nc\n\n');
  });

  it('moves the cursor back over the previous block on a terminal, and cuts lines at its width', () => {
    const out = fakeOut(true, 25);
    const screen = createScreen(out);
    screen.draw(['one', 'two']);
    screen.draw(['x'.repeat(40)]);
    expect(out.text).toBe(`one\ntwo\n\x1b[2F\x1b[J${'x'.repeat(24)}\n`);
  });
});

describe('startDemoPeers', () => {
  it('starts the five named peers on distinct local ports and closes them', async () => {
    const demo = await startDemoPeers();
    try {
      expect(demo.peers.map((peer) => peer.name)).toEqual(['steady', 'firehose', 'flaky', 'late', 'silent']);
      for (const peer of demo.peers) expect(peer.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      expect(new Set(demo.peers.map((peer) => peer.url)).size).toBe(5);
    } finally {
      await demo.close();
    }
  });
});

describe('npm start', () => {
  it('runs the embedded peers for 6 s, sees late connect and silent time out, and closes cleanly', async () => {
    const { code, stdout, stderr } = await runDemo(['--duration', '6']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const name of ['steady', 'firehose', 'flaky', 'late', 'silent']) expect(stdout).toContain(name);
    expect(stdout).toMatch(/honeybee demo: closed cleanly in \d+ ms/);
    // 'late' refuses for 3.5 s; its ~3.75 s dial must get through.
    const late = summaryRow(stdout, 'late');
    expect(late.connects).toBeGreaterThanOrEqual(1);
    expect(late.messages).toBeGreaterThan(0);
    // 'silent' goes quiet after its hello: keepaliveTimeout 3000 ends it near 3 s.
    expect(summaryRow(stdout, 'silent').causes).toContain('keepalive_timeout');
    expect(summaryRow(stdout, 'firehose').messages).toBeGreaterThan(summaryRow(stdout, 'steady').messages * 10);
  }, 30_000);

  it('with --shards 2, parses the frames in the threads and shows that work', async () => {
    const { code, stdout, stderr } = await runDemo(['--duration', '4', '--shards', '2']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/PEER\s+THREAD\s+STATE/);
    const final = stdout.slice(stdout.indexOf('summary after'));
    const work = /work in the threads: ([\d,]+) frames parsed there, ([\d,]+) values crossed/.exec(final);
    if (!work) throw new Error(`no thread work in:\n${final}`);
    const parsed = Number(work[1]?.replace(/,/g, ''));
    // Every message the demo counted was parsed in a thread, and far fewer values crossed than frames.
    const total = /^\s+TOTAL\s+([\d,]+)/m.exec(final);
    expect(parsed).toBe(Number(total?.[1]?.replace(/,/g, '')));
    expect(Number(work[2]?.replace(/,/g, ''))).toBeLessThan(parsed / 2);
    // Rendezvous hashing places the five peers by their URLs (random ports): all may land on one
    // thread. Each thread row that is shown accounts for its share, and together they hold them all.
    const rows = [...final.matchAll(/^\s+(t[01])\s+(\d+)\s+([\d,]+)/gm)];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.reduce((sum, row) => sum + Number(row[3]?.replace(/,/g, '')), 0)).toBe(parsed);
  }, 30_000);

  it("prints the library's typed error for a bad --url and exits 2", async () => {
    const { code, stdout, stderr } = await runDemo(['--url', 'http://relay.example']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Invalid peer URL "http://relay.example": the scheme must be ws: or wss:, not http:.');
    expect(stderr).toContain('Usage:');
  }, 30_000);
});
