import { readdirSync, readFileSync } from 'node:fs';
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { poolMachine } from '../machines/pool-machine.ts';
import { workerMachine } from '../machines/worker-machine.ts';

// Walks the machine definitions on their own (not through src/diagrams/model.ts) and
// checks that every transition is drawn in the checked-in Mermaid and SVG files.

const OUT = new URL('../visualizations/', import.meta.url);
// Graphviz writes `-` in attribute values as `&#45;`.
const read = (file: string): string => readFileSync(new URL(file, OUT), 'utf8').replaceAll('&#45;', '-');

interface Drawn {
  source: AnyStateNode;
  target: AnyStateNode;
  trigger: string;
  /** The event type as XState keys it (`''` for an eventless transition). */
  event: string;
}

const states = (node: AnyStateNode): AnyStateNode[] => Object.values(node.states) as AnyStateNode[];
const all = (node: AnyStateNode): AnyStateNode[] => [node, ...states(node).flatMap(all)];

function trigger(definition: AnyTransitionDefinition): string {
  const type = String(definition.eventType);
  if (type === '') return typeof definition.guard === 'string' ? `[${definition.guard}]` : '[else]';
  if (type.startsWith('xstate.after.')) return `after ${String((definition as { delay?: unknown }).delay)}`;
  return type;
}

/** Every transition with a target; one declared on the root applies in each top-level state that can receive events. */
function transitions(machine: AnyStateMachine): Drawn[] {
  const drawn: Drawn[] = [];
  for (const node of all(machine.root)) {
    const definitions = [...node.transitions.values(), node.always ?? []].flat();
    for (const definition of definitions) {
      for (const target of definition.target ?? []) {
        const reenter = (definition as { reenter?: unknown }).reenter === true;
        const receivers = states(machine.root).filter(
          (state) => (reenter || state !== target) && state.type !== 'final' && !(state.always ?? []).some((always) => always.guard === undefined)
        );
        for (const source of node === machine.root ? receivers : [node])
          drawn.push({ source, target, trigger: trigger(definition), event: String(definition.eventType) });
      }
    }
  }
  return drawn;
}

/** The Mermaid id of every state, found by following the nesting of `state … {` blocks: keyed by the state's path. */
function mermaidIds(mermaid: string): Map<string, string> {
  const ids = new Map<string, string>();
  const stack: string[] = [];
  for (const line of mermaid.split('\n').map((text) => text.trim())) {
    if (line === '}') {
      stack.pop();
      continue;
    }
    const named = /^state (?:"([^"<]*)[^"]*" as )?([A-Za-z0-9_]+)( \{)?$/.exec(line) ?? /^()([A-Za-z0-9_]+)()$/.exec(line);
    if (named === null) continue;
    const [, label, id = '', opens] = named;
    const path = [...stack, label === undefined || label === '' ? id : label].join('.');
    ids.set(path, id);
    if (opens !== undefined && opens !== '') stack.push(label === undefined || label === '' ? id : label);
  }
  return ids;
}

const pathOf = (node: AnyStateNode): string => node.path.join('.');

describe.each([
  ['worker', workerMachine],
  ['pool', poolMachine]
] as const)('the %s diagrams', (name, machine) => {
  const drawn = transitions(machine);
  // A state Mermaid cannot lay out inside its parent is drawn as one box there and in a chart of its own.
  const parts = readdirSync(OUT).filter((file) => file.startsWith(`${name}-`) && file.endsWith('.mmd') && file !== `${name}-public.mmd`);
  const mermaid = [read(`${name}.mmd`), ...parts.map(read)].join('\n');
  const svg = read(`${name}.svg`);
  /** Every state's Mermaid id by its path, the parts' paths placed under the box that stands for them. */
  const mermaidPaths = (): Map<string, string> => {
    const ids = mermaidIds(read(`${name}.mmd`));
    for (const part of parts) {
      const detached = part.slice(name.length + 1, -'.mmd'.length);
      const at = [...ids].find(([, id]) => id === detached)?.[0] ?? detached;
      const above = at.split('.').slice(0, -1);
      for (const [path, id] of mermaidIds(read(part))) if (path === detached || path.startsWith(`${detached}.`)) ids.set([...above, path].join('.'), id);
    }
    return ids;
  };
  /** The ids a transition's end may be drawn at: the state, or a box around it that stands for it. */
  const around = (node: AnyStateNode, ids: Map<string, string>): string[] => {
    const found: string[] = [];
    for (let at: AnyStateNode | undefined = node; at !== undefined && at !== machine.root; at = at.parent) {
      const id = ids.get(pathOf(at));
      if (id !== undefined) found.push(id);
    }
    return found;
  };

  it('name every state of the machine', () => {
    const ids = mermaidPaths();
    for (const node of all(machine.root).slice(1)) {
      expect(ids.has(pathOf(node)), `${pathOf(node)} is declared in ${name}.mmd`).toBe(true);
      expect(svg, `${node.id} is drawn in ${name}.svg`).toContain(`id="state:${node.id}"`);
    }
  });

  it('draw every transition in Mermaid, with its trigger', () => {
    expect(drawn.length).toBeGreaterThan(0);
    const ids = mermaidPaths();
    const lines = mermaid.split('\n').map((entry) => entry.trim());
    for (const { source, target, trigger: text } of drawn) {
      // Back into a state around the source (it leaves and re-enters it): drawn to the leaf it enters.
      const reenters = target !== source && source.path.join('.').startsWith(`${target.path.join('.')}.`);
      let entered = target;
      while (reenters && entered.type === 'compound') entered = entered.initial.target[0] ?? entered;
      // From the state (or the box standing for it in a split chart, or the leaf a compound source enters), to the same.
      let leaf = source;
      while (leaf.type === 'compound') leaf = leaf.initial.target[0] ?? leaf;
      const froms = [...around(source, ids), ...around(leaf, ids).slice(0, 1)];
      const tos = around(entered, ids);
      const edge = lines.find((entry) => entry.includes(text) && froms.some((from) => tos.some((to) => entry.startsWith(`${from} --> ${to}: `))));
      // A split chart reads a self-transition inside its state, as a `↻` line.
      const inside =
        source === target
          ? lines.find((entry) => entry.startsWith('state "') && entry.includes(`↻ ${text}`) && entry.endsWith(` as ${ids.get(pathOf(source))}`))
          : undefined;
      const line = edge ?? inside;
      if (reenters) expect(line, `${pathOf(source)} → ${pathOf(target)} says it re-enters`).toContain(`(re-enters ${target.key})`);
      expect(line, `${pathOf(source)} → ${pathOf(target)} in ${name}.mmd`).toBeDefined();
      expect(line, `${pathOf(source)} → ${pathOf(target)} is labelled ${text}`).toContain(text);
    }
  });

  it('draw every transition in the SVG, with its trigger on the edge or, for a self-transition, in the state', () => {
    for (const { source, target, trigger: text } of drawn) {
      const id = `transition:${source.id}-&gt;${target.id}`;
      const at = svg.indexOf(`id="${id}"`);
      // A self-transition is read inside its state, never as a bare (unlabelled) loop beside it.
      if (source === target) expect(at, `${source.id} ↻ has no loop drawn in ${name}.svg`).toBe(-1);
      else expect(at, `${source.id} → ${target.id} in ${name}.svg`).toBeGreaterThan(-1);
      const labelled = source === target ? svg.slice(svg.indexOf(`id="state:${source.id}"`)) : svg.slice(at);
      const group = labelled.slice(0, labelled.indexOf('</g>'));
      expect(group, `${source.id} → ${target.id} is labelled ${text}`).toContain(text.replaceAll('>', '&gt;'));
    }
  });
});

describe('the public view of the worker (worker-public)', () => {
  const mermaid = read('worker-public.mmd');
  const svg = read('worker-public.svg');
  const PUBLIC = ['dialing', 'connected', 'closing', 'backoff', 'stopped'];
  const publicOf = (node: AnyStateNode): string | undefined => {
    for (let at: AnyStateNode | undefined = node; at !== undefined; at = at.parent) {
      const tag = at.tags.find((name: string) => PUBLIC.includes(name));
      if (tag !== undefined) return tag;
    }
    return undefined;
  };
  const entered = (node: AnyStateNode): AnyStateNode => (node.type === 'compound' ? entered(node.initial.target[0] ?? node) : node);

  it('shows a restart within a public state: dialing → dialing on worker.reconnect (a fresh dial)', () => {
    // Inside the state (↻), as the full chart draws a self-transition.
    expect(mermaid).toContain('state "dialing<br/>incl. handshaking<br/>↻ worker.reconnect" as dialing');
    expect(svg).toMatch(/id="state:dialing"[\s\S]*?↻ worker\.reconnect/);
  });

  it('has exactly the public states, hook states folded in and named', () => {
    const ids = mermaidIds(mermaid);
    expect([...ids.keys()].sort()).toEqual([...PUBLIC].sort());
    expect(mermaid).toContain('state "connected<br/>incl. hooked" as connected');
    for (const state of PUBLIC) expect(svg).toContain(`id="state:${state}"`);
  });

  it('draws an edge for every transition that changes the public state', () => {
    const pairs = new Set<string>();
    // A state below the source that handles the same event itself (`closing` ignores a stop) overrides it.
    const handlesBelow = (leaf: AnyStateNode, source: AnyStateNode, event: string): boolean => {
      for (let at: AnyStateNode | undefined = leaf; at !== undefined && at !== source; at = at.parent) if (at.transitions.has(event)) return true;
      return false;
    };
    for (const { source, target, event } of transitions(workerMachine)) {
      for (const leaf of all(source).filter((node) => states(node).length === 0 && !handlesBelow(node, source, event))) {
        const from = publicOf(leaf);
        const to = publicOf(entered(target));
        if (from !== undefined && to !== undefined && from !== to) pairs.add(`${from}->${to}`);
      }
    }
    expect(pairs.size).toBeGreaterThan(4);
    for (const pair of pairs) {
      const [from, to] = pair.split('->');
      expect(mermaid, `${pair} in worker-public.mmd`).toMatch(new RegExp(`^\\s*${from} --> ${to}: `, 'm'));
      expect(svg, `${pair} in worker-public.svg`).toContain(`id="transition:${from}-&gt;${to}"`);
    }
  });

  it('labels an edge the machine takes on an event it raises itself with the event a user sends', () => {
    // `connected` answers worker.reconnect by sending the close frame and raising worker.redial.
    expect(mermaid).toMatch(/^\s*connected --> dialing: worker\.reconnect$/m);
    expect(mermaid).not.toContain('worker.redial');
    expect(read('worker.mmd')).toContain('connected --> dialing: worker.redial (re-enters session)');
    // In the SVG the long internal transition wraps: the event on one line, its actions packed below.
    const lines = [...read('worker.svg').matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
    expect(lines).toEqual(expect.arrayContaining(['worker.reconnect /', 'sendReconnectFrame, emitReconnectClose,', 'recordReconnect, requestRedial']));
  });
});
