import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AnyStateNode } from 'xstate';
import { beforeAll, describe, expect, it } from 'vitest';
import { poolMachine } from '../machines/pool-machine.ts';
import { workerMachine } from '../machines/worker-machine.ts';
import { collectDiagrams, type GeneratedDiagram } from '../src/diagrams/collect.ts';
import { toMermaid } from '../src/diagrams/mermaid.ts';
import { machineToModel } from '../src/diagrams/model.ts';
import { documentPages, embeddedBlock, embeddedDiagrams, mermaidFence, refreshReadme } from '../src/diagrams/readme-blocks.ts';

const OUT = new URL('../visualizations/', import.meta.url);
const STALE = 'is stale: run npm run diagrams';

let diagrams: GeneratedDiagram[] = [];
beforeAll(async () => {
  diagrams = await collectDiagrams();
});

/** Every event name a machine's states react to (the `on`, `after` and `always` keys). */
function handledEvents(node: AnyStateNode): string[] {
  const own = [...node.transitions.keys()].map((type) => (type.startsWith('xstate.after.') ? (type.split('.')[2] ?? type) : type));
  return [...own, ...Object.values(node.states).flatMap((child) => handledEvents(child as AnyStateNode))];
}

describe('generated diagrams (visualizations/)', () => {
  it('include the worker and the pool machine', () => {
    expect(diagrams.map((diagram) => diagram.name)).toEqual(expect.arrayContaining(['pool', 'worker']));
  });

  it('are current: each checked-in .mmd and .svg equals what the machines give now', () => {
    for (const diagram of diagrams) {
      for (const [ext, text] of [['mmd', diagram.mermaid], ...(diagram.svg === undefined ? [] : [['svg', diagram.svg] as const])] as const) {
        const file = new URL(`${diagram.name}.${ext}`, OUT);
        expect(existsSync(file), `visualizations/${diagram.name}.${ext} is missing: run npm run diagrams`).toBe(true);
        expect(readFileSync(file, 'utf8'), `visualizations/${diagram.name}.${ext} ${STALE}`).toBe(text);
      }
    }
  });

  it('leave no diagram behind for a machine that no longer exists', () => {
    const names = new Set(diagrams.map((diagram) => diagram.name));
    const files = readdirSync(OUT).filter((file) => file.endsWith('.mmd') || file.endsWith('.svg'));
    expect(files.filter((file) => !names.has(file.replace(/\.(mmd|svg)$/, '')))).toEqual([]);
  });

  it('are deterministic', async () => {
    const again = await collectDiagrams();
    expect(again).toEqual(diagrams);
  });

  it.each([
    ['worker', workerMachine],
    ['pool', poolMachine]
  ] as const)('name every event the %s machine handles', (name, machine) => {
    const mermaid = toMermaid(machineToModel(machine, name));
    for (const event of new Set(handledEvents(machine.root))) expect(mermaid, `${event} is not in the ${name} diagram`).toContain(event);
  });

  it('draw the worker states with their public names, and stop transitions from every waiting state', () => {
    const mermaid = toMermaid(machineToModel(workerMachine, 'worker'));
    for (const line of [
      '[*] --> session',
      'backoff --> session: after dialDelay',
      'backoff --> stopped: [tooManyFlaps]<br/>worker.stop',
      'state "failed<br/>tag backoff" as failed',
      'stopped --> [*]'
    ]) {
      expect(mermaid).toContain(line);
    }
    // Mermaid shows a `state : description` line instead of the state's name (GitHub too).
    expect(mermaid).not.toMatch(/^\s*\w+ : /m);
    // `failed` is left at once by its `always` transitions: it can never receive `worker.stop`.
    expect(mermaid).not.toContain('failed --> stopped: worker.stop');
  });
});

describe('README.md and docs/', () => {
  const root = new URL('../', import.meta.url);
  const lifecycle = readFileSync(new URL('docs/lifecycle.md', root), 'utf8');

  it.each(['worker', 'worker-connected', 'worker-public', 'pool'])(
    'docs/lifecycle.md embeds the generated %s diagram exactly as its visualizations/ .mmd file',
    (name) => {
      const file = readFileSync(new URL(`${name}.mmd`, OUT), 'utf8');
      expect(embeddedBlock(lifecycle, name), `the ${name} diagram in docs/lifecycle.md ${STALE}`).toBe(mermaidFence(file));
    }
  );

  it('README.md embeds the public view of the worker', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    expect(embeddedBlock(readme, 'worker-public'), `the worker-public diagram in README.md ${STALE}`).toBe(
      mermaidFence(readFileSync(new URL('worker-public.mmd', OUT), 'utf8'))
    );
  });

  it.each(documentPages(root))('%s only embeds diagrams that exist, and refreshing it changes nothing', (page) => {
    const text = readFileSync(new URL(page, root), 'utf8');
    const names = diagrams.map((diagram) => diagram.name);
    for (const name of embeddedDiagrams(text)) expect(names).toContain(name);
    const mermaid = Object.fromEntries(diagrams.map((diagram) => [diagram.name, diagram.mermaid]));
    expect(refreshReadme(text, mermaid) === text, `${page} diagrams are stale: run npm run diagrams`).toBe(true);
  });
});
