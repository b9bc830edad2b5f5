import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** One state of a diagram; `id` is unique in its diagram and safe for Mermaid. */
export interface DiagramNode {
  readonly id: string;
  /** The state's own key, as written in the machine. */
  readonly label: string;
  /** XState's id of the state (`worker.session.dialing`); for a folded view, the class it stands for. */
  readonly stateId: string;
  readonly kind: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  readonly children: readonly DiagramNode[];
  /** The id of the initial child of a compound state. */
  readonly initial: string | undefined;
  /** Second lines shown under the name: tags that differ from it, internal transitions. */
  readonly notes: readonly string[];
}

/** A transition drawn between two states; several events between the same pair share one edge. */
export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly labels: readonly string[];
  /** The id of the compound state both ends live in directly, or `undefined` for the top level. */
  readonly scope: string | undefined;
}

/** A machine reduced to what a diagram shows. */
export interface DiagramModel {
  readonly name: string;
  /** The machine's root; its children are the top-level states. */
  readonly root: DiagramNode;
  readonly edges: readonly DiagramEdge[];
  /** Target-less transitions of the root: they apply in every state. */
  readonly everywhere: readonly string[];
}

/** Every state of a diagram by id, and each one's parent (`undefined` at the top). */
export interface DiagramTree {
  readonly nodes: ReadonlyMap<string, DiagramNode>;
  readonly parent: ReadonlyMap<string, DiagramNode | undefined>;
}

export function treeOf(root: DiagramNode): DiagramTree {
  const nodes = new Map<string, DiagramNode>();
  const parent = new Map<string, DiagramNode | undefined>();
  const visit = (node: DiagramNode, above: DiagramNode | undefined): void => {
    nodes.set(node.id, node);
    parent.set(node.id, above);
    for (const child of node.children) visit(child, node);
  };
  for (const child of root.children) visit(child, undefined);
  return { nodes, parent };
}

/** The leaf a compound state enters first (itself for a leaf). */
export function enteredLeaf(node: DiagramNode): DiagramNode {
  const first = node.children.find((child) => child.id === node.initial);
  return first === undefined ? node : enteredLeaf(first);
}

type Guard = unknown;

function guardName(guard: Guard): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  const type = (guard as { type?: unknown }).type;
  return typeof type === 'string' ? type : 'guard';
}

function actionNames(actions: readonly unknown[]): string[] {
  return actions.map((action) => {
    if (typeof action === 'string') return action;
    if (typeof action === 'function') return action.name || 'action';
    const type = (action as { type?: unknown }).type;
    return typeof type === 'string' ? type : 'action';
  });
}

/** How a transition's trigger reads: `socket.open`, `after dialDelay`, `always`. */
function triggerText(eventType: string, delay: unknown): string {
  if (eventType === '') return 'always';
  if (eventType.startsWith('xstate.after.')) {
    return typeof delay === 'number' ? `after ${delay}ms` : `after ${String(delay)}`;
  }
  return eventType;
}

/** Gives every state a short id: its key if unique, else `parent_key`, else the whole path. */
function assignIds(machine: AnyStateMachine): Map<AnyStateNode, string> {
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode): void => {
    nodes.push(node);
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root);
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9_]/g, '_');
  const candidates = [
    (node: AnyStateNode) => safe(node.key),
    (node: AnyStateNode) => safe(`${node.parent?.key ?? ''}_${node.key}`),
    (node: AnyStateNode) => safe(node.path.join('_'))
  ];
  const ids = new Map<AnyStateNode, string>();
  for (const node of nodes) {
    for (const candidate of candidates) {
      const id = candidate(node);
      if (nodes.filter((other) => candidate(other) === id).length === 1 || candidate === candidates[2]) {
        ids.set(node, id);
        break;
      }
    }
  }
  return ids;
}

/** One transition definition of a state, reduced to what a diagram shows. */
export interface Transition {
  source: AnyStateNode;
  trigger: string;
  guard: string | undefined;
  targets: readonly AnyStateNode[] | undefined;
  actions: string[];
  /** Whether the transition leaves and re-enters its target even when it is already active. */
  reenter: boolean;
}

/** Every transition a state defines, in definition order, with `[else]` for an unguarded fallback. */
export function transitionsOf(node: AnyStateNode): Transition[] {
  const groups: AnyTransitionDefinition[][] = [...node.transitions.values()];
  if (node.always) groups.push(node.always);
  const result: Transition[] = [];
  for (const group of groups) {
    group.forEach((definition, index) => {
      // `delay` is only on the definitions of `after` transitions.
      const delay = (definition as { delay?: unknown }).delay;
      const guard = guardName(definition.guard) ?? (index > 0 ? 'else' : undefined);
      const trigger = triggerText(String(definition.eventType), delay);
      const reenter = (definition as { reenter?: unknown }).reenter === true;
      result.push({ source: node, trigger, guard, targets: definition.target, actions: actionNames(definition.actions), reenter });
    });
  }
  return result;
}

/** How a transition reads on an edge: `socket.open [hasHandshake]`, or the guard alone for `always`. */
export function label(transition: Transition): string {
  const guard = transition.guard === undefined ? '' : ` [${transition.guard}]`;
  return transition.trigger === 'always' && guard !== '' ? guard.trim() : `${transition.trigger}${guard}`;
}

/** Transitions that change no state, as `event / action, action` lines. */
function internalLines(node: AnyStateNode): string[] {
  const lines: string[] = [];
  for (const transition of transitionsOf(node)) {
    if (transition.targets !== undefined && transition.targets.length > 0) continue;
    const actions = transition.actions.length > 0 ? ` / ${transition.actions.join(', ')}` : ' (ignored)';
    lines.push(`${label(transition)}${actions}`);
  }
  return lines;
}

function notesOf(node: AnyStateNode): string[] {
  const tags = node.tags.filter((tag: string) => tag !== node.key).map((tag: string) => `tag ${tag}`);
  return [...tags, ...internalLines(node)];
}

function toNode(node: AnyStateNode, ids: Map<AnyStateNode, string>): DiagramNode {
  const children = Object.values(node.states).map((child) => toNode(child as AnyStateNode, ids));
  const initial = node.type === 'compound' ? node.initial.target[0] : undefined;
  return {
    id: ids.get(node) ?? node.key,
    label: node.key,
    stateId: node.id,
    kind: node.type,
    children,
    initial: initial === undefined ? undefined : ids.get(initial),
    notes: node.parent === undefined ? [] : notesOf(node)
  };
}

/** The ids of a state's ancestors, nearest first, without the machine root. */
function ancestry(node: AnyStateNode, ids: Map<AnyStateNode, string>): string[] {
  const chain: string[] = [];
  for (let parent = node.parent; parent?.parent !== undefined; parent = parent.parent) chain.push(ids.get(parent) ?? '');
  return chain;
}

/** The transitions as edges: root-level ones start from every top-level state they can leave. */
function collectEdges(machine: AnyStateMachine, ids: Map<AnyStateNode, string>): DiagramEdge[] {
  const edges = new Map<string, { from: string; to: string; labels: string[]; scope: string | undefined }>();
  const add = (source: AnyStateNode, target: AnyStateNode, text: string): void => {
    const from = ids.get(source) ?? '';
    const to = ids.get(target) ?? '';
    const sourceUp = ancestry(source, ids);
    const scope = sourceUp[0] !== undefined && sourceUp[0] === ancestry(target, ids)[0] ? sourceUp[0] : undefined;
    const key = `${from}->${to}`;
    const edge = edges.get(key) ?? { from, to, labels: [], scope };
    if (!edge.labels.includes(text)) edge.labels.push(text);
    edges.set(key, edge);
  };
  const own = (node: AnyStateNode): void => {
    for (const transition of transitionsOf(node)) {
      for (const target of transition.targets ?? []) {
        const sources = node === machine.root ? topLevelSources(machine.root, target, transition.reenter) : [node];
        for (const source of sources) add(source, target, label(transition));
      }
    }
  };
  const visit = (node: AnyStateNode): void => {
    own(node);
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  // The root's transitions (e.g. a stop accepted everywhere) read best after the main flow.
  for (const child of Object.values(machine.root.states)) visit(child as AnyStateNode);
  own(machine.root);
  return [...edges.values()];
}

// A state with an unguarded `always` is left as soon as it is entered, so it never sees an event.
export function isTransient(node: AnyStateNode): boolean {
  return (node.always ?? []).some((definition) => definition.guard === undefined);
}

function topLevelSources(root: AnyStateNode, target: AnyStateNode, reenter: boolean): AnyStateNode[] {
  const children = Object.values(root.states) as AnyStateNode[];
  return children.filter((child) => (reenter || child !== target) && child.type !== 'final' && !isTransient(child));
}

/**
 * Reduces a machine definition to a diagram model by walking `machine.root`:
 * every state node, its `on`/`after`/`always` transitions (guards in
 * brackets) and, inside atomic states, its tags and target-less transitions.
 *
 * @example
 * ```ts
 * const model = machineToModel(workerMachine, 'worker');
 * console.log(model.edges.length);
 * ```
 */
export function machineToModel(machine: AnyStateMachine, name: string): DiagramModel {
  const ids = assignIds(machine);
  return { name, root: toNode(machine.root, ids), edges: collectEdges(machine, ids), everywhere: internalLines(machine.root) };
}
