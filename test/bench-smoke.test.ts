import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// Proves that `npm run bench` still runs end to end. Timings are never
// asserted: the quick mode's numbers are meaningless by design.
const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'honeybee-bench-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Summary {
  median: number;
  samples: number[];
}

function expectSummary(value: Summary | undefined): void {
  expect(value?.samples.length).toBeGreaterThan(0);
  expect(Number.isFinite(value?.median)).toBe(true);
}

describe('npm run bench -- --quick', () => {
  it('finishes and writes bench.json and bench.md with every measure and target', { timeout: 180_000 }, async () => {
    await run('npm', ['run', '--silent', 'bench', '--', '--quick', '--out', out], { maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as {
      machine: Record<string, unknown>;
      targets: Array<{ measure: string; value: number; limit: number | null }>;
      results: {
        inbox: Array<{ peers: number; cpuUsPerMessage: Record<string, Summary> }>;
        send: Record<string, Summary>;
        connect: Array<Record<string, Record<string, Summary>>>;
        register: Array<{ registerUsPerPeer: Summary; registerCpuUsPerPeer: Summary; connectUsPerPeer: Summary }>;
        storm: Array<{ kind: string; allBackMs: number; peakDialsPerSecond: number }>;
        stall: Array<{ overflow: string; rssGrowthAfterFullMiB: number; series: unknown[] }>;
        floor: Record<'createUs' | 'eventUs' | 'heapPerActor', Record<string, Summary>>;
        verify: { verifiedPerSecond: Record<string, Summary>; invalid: number };
      };
    };
    const { results } = report;

    expect(report.machine).toMatchObject({ node: process.version });
    expect(results.inbox).toHaveLength(2);
    for (const row of results.inbox) {
      for (const kind of ['raw', 'honeybee', 'honeybee-batch', 'honeybee-parse', 'partysocket', 'nostr']) {
        expectSummary(row.cpuUsPerMessage[kind]);
      }
    }
    for (const kind of ['raw', 'honeybee', 'partysocket', 'nostr']) expectSummary(results.send[kind]);
    expect(results.connect.length).toBeGreaterThan(0);
    for (const row of results.connect) {
      for (const measure of ['connectMs', 'heapPerPeer', 'rssPerPeer', 'closeMs', 'connectCpuUsPerPeer', 'closeCpuMs']) {
        for (const kind of ['raw', 'honeybee', 'partysocket', 'nostr']) expectSummary(row[measure]?.[kind]);
      }
    }
    // The actor floor runs at the largest size (the only one in quick mode).
    const largest = results.connect[results.connect.length - 1]!;
    for (const measure of ['connectMs', 'heapPerPeer', 'closeMs']) {
      expectSummary(largest[measure]?.['actor-pool']);
    }
    expect(results.register.length).toBeGreaterThan(1);
    for (const row of results.register) {
      expectSummary(row.registerUsPerPeer);
      expectSummary(row.registerCpuUsPerPeer);
    }
    expect(results.storm.map((storm) => storm.kind)).toEqual(['honeybee', 'partysocket']);
    for (const storm of results.storm) expect(storm.peakDialsPerSecond).toBeGreaterThan(0);
    expect(results.stall.map((stall) => stall.overflow)).toEqual(['block', 'drop-oldest']);
    for (const stall of results.stall) expect(stall.series.length).toBeGreaterThan(2);
    for (const measure of ['createUs', 'eventUs', 'heapPerActor'] as const) {
      for (const kind of ['minimal', 'minimal-invoke', 'worker']) expectSummary(results.floor[measure][kind]);
    }
    // Signed events verified in the consumer and in the thread shards' `process` (NATS is left out of quick mode).
    for (const setup of ['pool', 'threads × 1', 'threads × 2']) expectSummary(results.verify.verifiedPerSecond[setup]);
    expect(results.verify.invalid).toBe(0);
    expect(report.targets.map((target) => target.measure)).toContain('verified events/s: threads × 2 / one pool (both verify every event)');
    // The lifecycle targets are judged against the floor (decided 2026-12-07), at its limits.
    const lifecycle = report.targets.filter((target) => target.measure.endsWith(': honeybee / floor') && target.limit !== null);
    expect(lifecycle.map((target) => [target.measure.replace(/\d+/, 'N'), target.limit])).toEqual([
      ['time for N peers to connect: honeybee / floor', 1.1],
      ['heap per idle peer (N): honeybee / floor', 1.15],
      ['close() of N connected peers: honeybee / floor', 1.1]
    ]);
    // One line per target of performance.md, each with a number.
    expect(report.targets.length).toBeGreaterThanOrEqual(16);
    for (const target of report.targets) expect(Number.isFinite(target.value)).toBe(true);
    const markdown = readFileSync(join(out, 'bench.md'), 'utf8');
    expect(markdown).toContain('## Targets');
    expect(markdown).toContain('| floor: ws + actor + pool actor |');
    expect(markdown).toContain('| threads × 2 (verify in `process`) |');
  });
});
