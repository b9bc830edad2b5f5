import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { isTransient, transitionsOf, type Transition } from './model.ts';
import type { DiagramEdge, DiagramModel, DiagramNode } from './model.ts';

/** The public state names of a worker (its tags), in the order a view lists them. */
export const PUBLIC_STATES = ['dialing', 'connected', 'closing', 'backoff', 'stopped'] as const;

function leavesOf(node: AnyStateNode): AnyStateNode[] {
  const children = Object.values(node.states) as AnyStateNode[];
  return children.length === 0 ? [node] : children.flatMap(leavesOf);
}

/** The public state a state belongs to: its first public tag, or its nearest ancestor's. */
function publicStateOf(node: AnyStateNode, names: readonly string[]): string | undefined {
  for (let at: AnyStateNode | undefined = node; at !== undefined; at = at.parent) {
    const tag = at.tags.find((name: string) => names.includes(name));
    if (tag !== undefined) return tag;
  }
  return undefined;
}

/** The atomic state a transition into `target` ends in: compound states are entered at their initial child. */
/** Whether `outer` is a state around `leaf` (one of its ancestors). */
function encloses(outer: AnyStateNode, leaf: AnyStateNode): boolean {
  for (let at = leaf.parent; at !== undefined; at = at.parent) if (at === outer) return true;
  return false;
}

function entered(target: AnyStateNode): AnyStateNode {
  let at = target;
  while (at.type === 'compound') at = at.initial.target[0] ?? at;
  return at;
}

/**
 * The transitions a leaf can take, XState's way: for each event, the
 * deepest state that handles it wins, and its ancestors' handlers apply only
 * when none of its alternatives is unguarded.
 */
function reachable(leaf: AnyStateNode): Transition[] {
  // A final state takes nothing; a transient one is left before any event can reach it.
  if (leaf.type === 'final') return [];
  if (isTransient(leaf)) return transitionsOf(leaf).filter((transition) => transition.trigger === 'always');
  const taken: Transition[] = [];
  const settled = new Set<string>();
  for (let at: AnyStateNode | undefined = leaf; at !== undefined; at = at.parent) {
    const byTrigger = new Map<string, Transition[]>();
    for (const transition of transitionsOf(at)) byTrigger.set(transition.trigger, [...(byTrigger.get(transition.trigger) ?? []), transition]);
    for (const [trigger, group] of byTrigger) {
      if (settled.has(trigger)) continue;
      taken.push(...group);
      if (group.some((transition) => transition.guard === undefined || transition.guard === 'else')) settled.add(trigger);
    }
  }
  return taken;
}

/**
 * How a folded edge reads: an event alone (its guards only choose among
 * states the view folds together), a delay with its guard, and an eventless
 * transition by its guard, `else` spelt as the guards it stands against.
 */
function publicLabel(transition: Transition, siblings: readonly Transition[]): string {
  if (transition.trigger === 'always') {
    if (transition.guard !== 'else') return `[${transition.guard ?? 'always'}]`;
    const others = siblings.filter((other) => other.trigger === 'always' && other.guard !== 'else' && other.guard !== undefined);
    return `[${others.map((other) => `!${other.guard}`).join(', ')}]`;
  }
  if (transition.trigger.startsWith('after ') && transition.guard !== undefined && transition.guard !== 'else') {
    return `${transition.trigger} [${transition.guard}]`;
  }
  return transition.trigger;
}

/** The states a public state folds in that users never see by name: hook states (they invoke an actor) and transient ones. */
function foldedNames(members: readonly AnyStateNode[], name: string): string[] {
  const names = new Set<string>();
  for (const leaf of members) {
    for (let at: AnyStateNode | undefined = leaf; at?.parent !== undefined; at = at.parent) {
      if (at.key !== name && (at.invoke.length > 0 || isTransient(at))) names.add(at.key);
    }
  }
  return [...names];
}

/** The type of the event an action raises, when the machine implements it as `raise({ type })`. */
export function raisedType(machine: AnyStateMachine, action: string): string | undefined {
  // XState's `raise()` returns a function carrying `type: 'xstate.raise'` and the event it raises.
  const raise = (machine.implementations.actions as Record<string, { type?: unknown; event?: { type?: unknown } } | undefined>)[action];
  return raise?.type === 'xstate.raise' && typeof raise.event?.type === 'string' ? raise.event.type : undefined;
}

/**
 * What a user sends for each event a leaf raises itself: a transition that
 * stays put and raises an event reads, on the edge that event takes, as the
 * trigger that raised it (`worker.reconnect`, not the machine's own `worker.redial`).
 */
function raisers(machine: AnyStateMachine, transitions: readonly Transition[]): Map<string, Transition> {
  const byRaised = new Map<string, Transition>();
  for (const transition of transitions) {
    if (transition.targets !== undefined && transition.targets.length > 0) continue;
    for (const action of transition.actions) {
      const raised = raisedType(machine, action);
      if (raised !== undefined && !byRaised.has(raised)) byRaised.set(raised, transition);
    }
  }
  return byRaised;
}

/**
 * Folds a machine into its public view: one state per public name (the
 * tags in `names`), each standing for every state that carries it, and one
 * edge per pair of public states that some transition connects. Hook states
 * (`handshaking`, `hooked`) and transient ones (`failed`) disappear into the
 * state users know them as, and are named on its second line; an event the
 * machine raises itself is labelled with the trigger that raised it. Returns
 * `undefined` for a machine whose states carry none of the names.
 *
 * @example
 * ```ts
 * const view = publicView(workerMachine, 'worker-public');
 * console.log(view?.root.children.map((state) => state.label)); // dialing, connected, closing, backoff, stopped
 * ```
 */
export function publicView(machine: AnyStateMachine, name: string, names: readonly string[] = PUBLIC_STATES): DiagramModel | undefined {
  const leaves = leavesOf(machine.root);
  const classes = new Map<string, AnyStateNode[]>();
  for (const leaf of leaves) {
    const state = publicStateOf(leaf, names);
    if (state !== undefined) classes.set(state, [...(classes.get(state) ?? []), leaf]);
  }
  if (classes.size === 0) return undefined;
  const edges = new Map<string, DiagramEdge & { labels: string[] }>();
  const restarts = new Map<string, string[]>();
  for (const [from, members] of classes) {
    for (const leaf of members) {
      const transitions = reachable(leaf);
      const raisedBy = raisers(machine, transitions);
      for (const transition of transitions) {
        for (const target of transition.targets ?? []) {
          const to = publicStateOf(entered(target), names);
          // A move within one public state is not drawn, except a restart: a transition to a state
          // around the leaf leaves and enters it again (worker.reconnect while dialing: a fresh dial).
          if (to === undefined || (to === from && !encloses(target, leaf))) continue;
          const text = publicLabel(raisedBy.get(transition.trigger) ?? transition, transitions);
          if (to === from) {
            // Drawn inside the state (↻), as the full chart does: a loop's label would sit on the edges below it.
            const own = restarts.get(from) ?? [];
            if (!own.includes(text)) restarts.set(from, [...own, text]);
            continue;
          }
          const edge = edges.get(`${from}->${to}`) ?? { from, to, labels: [], scope: undefined };
          if (!edge.labels.includes(text)) edge.labels.push(text);
          edges.set(`${from}->${to}`, edge);
        }
      }
    }
  }
  const order = names.filter((state) => classes.has(state));
  const children: DiagramNode[] = order.map((state) => {
    const members = classes.get(state) ?? [];
    const folded = foldedNames(members, state);
    return {
      id: state,
      label: state,
      stateId: state,
      kind: members.some((leaf) => leaf.type === 'final') ? 'final' : 'atomic',
      children: [],
      initial: undefined,
      notes: [...(folded.length > 0 ? [`incl. ${folded.join(', ')}`] : []), ...(restarts.get(state) ?? []).map((text) => `↻ ${text}`)]
    };
  });
  const initial = publicStateOf(entered(machine.root), names);
  const root: DiagramNode = { id: name, label: name, stateId: machine.root.id, kind: 'compound', children, initial, notes: [] };
  return { name, root, edges: [...edges.values()], everywhere: [] };
}
