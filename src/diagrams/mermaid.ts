import type { DiagramEdge, DiagramModel, DiagramNode } from './model.ts';

const INDENT = '  ';

// Mermaid reads `"` as the end of a label and `;` as the end of a statement; `#…;` is its entity syntax.
const quote = (text: string): string => text.replaceAll('"', '#quot;').replaceAll(';', '#59;');

function edgeLine(edge: DiagramEdge): string {
  return `${edge.from} --> ${edge.to}: ${edge.labels.map(quote).join('<br/>')}`;
}

/**
 * How a state is named: its key, then one `<br/>` line per note. A
 * `state : description` line would not do: Mermaid (and so GitHub) shows
 * the description instead of the name.
 */
function title(node: DiagramNode): string | undefined {
  if (node.id === node.label && node.notes.length === 0) return undefined;
  return `"${[node.label, ...node.notes].map(quote).join('<br/>')}"`;
}

function leafLines(node: DiagramNode): string[] {
  const named = title(node);
  return [named === undefined ? node.id : `state ${named} as ${node.id}`];
}

/** The body of a compound state (or of the whole diagram): initial arrow, children, edges, final arrows. */
function bodyLines(node: DiagramNode, model: DiagramModel, scope: string | undefined): string[] {
  const lines: string[] = [];
  if (node.initial !== undefined) lines.push(`[*] --> ${node.initial}`);
  for (const child of node.children) lines.push(...stateLines(child, model));
  for (const edge of model.edges) if (edge.scope === scope) lines.push(edgeLine(edge));
  for (const child of node.children) if (child.kind === 'final') lines.push(`${child.id} --> [*]`);
  return lines;
}

function stateLines(node: DiagramNode, model: DiagramModel): string[] {
  if (node.children.length === 0) return leafLines(node);
  const named = title(node);
  const head = named === undefined ? `state ${node.id} {` : `state ${named} as ${node.id} {`;
  const inner: string[] = [];
  if (node.kind === 'parallel') {
    // Mermaid separates concurrent regions with a `--` line.
    node.children.forEach((region, index) => {
      if (index > 0) inner.push('--');
      inner.push(...stateLines(region, model));
    });
  } else {
    inner.push(...bodyLines(node, model, node.id));
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
  const lines = bodyLines(model.root, model, undefined);
  const anchor = model.root.initial;
  if (model.everywhere.length > 0 && anchor !== undefined) {
    lines.push(`note right of ${anchor}`, `${INDENT}in every state:`, ...model.everywhere.map((text) => INDENT + text), 'end note');
  }
  return ['stateDiagram-v2', ...lines.map((line) => INDENT + line)].join('\n') + '\n';
}
