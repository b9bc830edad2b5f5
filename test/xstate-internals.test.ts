import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, setup, SimulatedClock } from 'xstate';
import type { Logger } from '../src/logger.ts';
import { indexScheduler, schedulerCanary } from '../src/xstate-internals.ts';
import { patchedXState, runAgainst, XSTATE_CHANGES, type XStatePatch } from './helpers/patched-xstate.ts';

const CHILD = 'test/helpers/xstate-change-child.ts';

interface ChildReport {
  xstate: string;
  canary: string | null;
  warnings: string[];
  pools: Array<{ sessions: string[]; closed: boolean }>;
}

function warnLogger(warnings: string[]): Logger {
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (_fields, message) => void warnings.push(String(message)), child: () => logger };
  return logger;
}

describe('the scheduler canary on the installed XState', () => {
  it('passes, and the index installs without a warning', () => {
    expect(schedulerCanary()).toBeUndefined();
    const warnings: string[] = [];
    const actor = createActor(setup({}).createMachine({}), { clock: new SimulatedClock() });
    expect(indexScheduler(actor.system, warnLogger(warnings))).toBe(true);
    expect(warnings).toEqual([]);
    // Only the one property is patched: XState's own snapshot object (and whatever else it holds) stays.
    const internals = actor.system as unknown as { _snapshot: object };
    expect(Object.getOwnPropertyDescriptor(internals._snapshot, '_scheduledEvents')?.get).toBeTypeOf('function');
  });
});

// Two changes seen on XState's `next` branch that keep the shape the pool checks. Against each,
// in a scratch copy of XState loaded by a child process, two pools connect ten peers and close.
describe('XState changing under the pool (a patched scratch copy)', () => {
  const copies: Array<{ dispose(): void }> = [];
  const reports = new Map<string, ChildReport>();

  beforeAll(async () => {
    const changes = Object.entries(XSTATE_CHANGES) as Array<[string, XStatePatch[]]>;
    await Promise.all(
      changes.map(async ([name, patches]) => {
        const copy = patchedXState(patches);
        copies.push(copy);
        const report = await runAgainst<ChildReport>(copy.hook, CHILD);
        expect(report.xstate).toContain(copy.dir);
        reports.set(name, report);
      })
    );
  }, 60_000);

  afterAll(() => {
    for (const copy of copies) copy.dispose();
  });

  function expectSound(report: ChildReport): void {
    for (const pool of report.pools) {
      expect(pool.closed).toBe(true);
      expect(new Set(pool.sessions).size).toBe(pool.sessions.length);
      for (const id of pool.sessions) expect(id).toMatch(/^x:\d+$/);
    }
  }

  it('done events handed to the parent directly: close() still resolves (ends come through emitted events, not the relay)', () => {
    const report = reports.get('doneDeliveredDirectly')!;
    expectSound(report);
    // The child still reports its end to its parent, so the canary passes and the index stays.
    expect(report.canary).toBeNull();
    expect(report.warnings).toEqual([]);
  });

  it('a new field in the system snapshot: the canary declines the index, warns once, and session ids stay unique', () => {
    const report = reports.get('snapshotGainsAField')!;
    expect(report.canary).toMatch(/_nextActorId/);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/XState's own scheduler/);
    expectSound(report);
  });
});
