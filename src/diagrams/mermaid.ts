import { enteredLeaf, treeOf, type DiagramEdge, type DiagramModel, type DiagramNode } from './model.ts';

const INDENT = '  ';

// Mermaid reads `"` as the end of a label and `;` as the end of a statement; `#…;` is its entity syntax.
const quote = (text: string): string => text.replaceAll('"', '#quot;').replaceAll(';', '#59;');

/**
 * Spacing for Mermaid's default (dagre) layout, as front matter that GitHub
 * reads too: more room between ranks keeps edge labels off each other.
 */
const FRONT_MATTER = ['---', 'config:', '  state:', '    nodeSpacing: 30', '    rankSpacing: 90', '---'];

/** A compound state, also when drawn as one box (its inside in a chart of its own, see split.ts). */
const isCompound = (node: DiagramNode): boolean => node.kind === 'compound' || node.kind === 'parallel';

/** Where each state sits: its parent's id (undefined at the top). */
type Parents = ReadonlyMap<string, DiagramNode | undefined>;

/**
 * An edge line. A transition from inside a compound state to that state
 * itself (it leaves and enters it again, as `connected --> session`) is drawn
 * to the leaf it enters, labelled so: Mermaid's layout has no room for an
 * edge from a box to the box around it and drops its label on a dot.
 */
function edgeLine(edge: DiagramEdge, parents: Parents): string {
  let to = edge.to;
  let labels = edge.labels.map(quote);
  for (let at = parents.get(edge.from); at !== undefined; at = parents.get(at.id)) {
    if (at.id !== edge.to) continue;
    to = enteredLeaf(at).id;
    labels = labels.map((label) => `${label} (re-enters ${quote(at.label)})`);
    break;
  }
  return `${edge.from} --> ${to}: ${labels.join('<br/>')}`;
}

/**
 * How a state is named: its key, then one `<br/>` line per note. A
 * `state : description` line would not do: Mermaid (and so GitHub) shows
 * the description instead of the name.
 */
function title(node: DiagramNode): string | undefined {
  // A compound state's notes go in a note beside it: Mermaid keeps one line for its caption.
  const notes = isCompound(node) ? [] : node.notes;
  if (node.id === node.label && notes.length === 0) return undefined;
  return `"${[node.label, ...notes].map(quote).join('<br/>')}"`;
}

/** The note beside a compound state that carries its notes (its internal transitions). */
function compoundNotes(node: DiagramNode): string[] {
  const own = isCompound(node) && node.notes.length > 0 ? [`note left of ${node.id}`, ...node.notes.map((note) => INDENT + note), 'end note'] : [];
  return [...own, ...node.children.flatMap(compoundNotes)];
}

function leafLines(node: DiagramNode): string[] {
  const named = title(node);
  return [named === undefined ? node.id : `state ${named} as ${node.id}`];
}

/** The body of a compound state (or of the whole diagram): initial arrow, children, edges, final arrows. */
function bodyLines(node: DiagramNode, model: DiagramModel, scope: string | undefined, parents: Parents): string[] {
  const lines: string[] = [];
  if (node.initial !== undefined) lines.push(`[*] --> ${node.initial}`);
  for (const child of node.children) lines.push(...stateLines(child, model, parents));
  for (const edge of model.edges) if (edge.scope === scope) lines.push(edgeLine(edge, parents));
  for (const child of node.children) if (child.kind === 'final') lines.push(`${child.id} --> [*]`);
  return lines;
}

function stateLines(node: DiagramNode, model: DiagramModel, parents: Parents): string[] {
  if (node.children.length === 0) return leafLines(node);
  const named = title(node);
  const head = named === undefined ? `state ${node.id} {` : `state ${named} as ${node.id} {`;
  const inner: string[] = [];
  if (node.kind === 'parallel') {
    // Mermaid separates concurrent regions with a `--` line.
    node.children.forEach((region, index) => {
      if (index > 0) inner.push('--');
      inner.push(...stateLines(region, model, parents));
    });
  } else {
    inner.push(...bodyLines(node, model, node.id, parents));
  }
  return [head, ...inner.map((line) => INDENT + line), '}'];
}

/**
 * Renders a diagram model as a Mermaid `stateDiagram-v2`. Compound states
 * become nested blocks, parallel regions are separated by `--`, and the
 * root's target-less transitions become a note on the initial state.
 *
 * @example
 * ```ts
 * writeFileSync('worker.mmd', toMermaid(machineToModel(workerMachine, 'worker')));
 * ```
 */
export function toMermaid(model: DiagramModel): string {
  const parents = treeOf(model.root).parent;
  const lines = bodyLines(model.root, model, undefined, parents);
  lines.push(...model.root.children.flatMap(compoundNotes));
  const anchor = model.root.initial;
  if (model.everywhere.length > 0 && anchor !== undefined) {
    lines.push(`note right of ${anchor}`, `${INDENT}in every state:`, ...model.everywhere.map((text) => INDENT + text), 'end note');
  }
  return [...FRONT_MATTER, 'stateDiagram-v2', ...lines.map((line) => INDENT + line)].join('\n') + '\n';
}
