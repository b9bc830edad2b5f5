import type { DiagramEdge, DiagramModel, DiagramNode } from './model.ts';

/**
 * The font the layout measures with and the SVG asks for. Graphviz estimates
 * text widths from built-in metrics; Verdana's match Verdana where it is
 * installed and DejaVu Sans (its metric twin on Linux) elsewhere, so labels
 * fit their boxes whichever of the two the viewer has.
 */
export const DIAGRAM_FONT = 'Verdana';

const INK = '#33302a';
const MUTED = '#6b6459';
const STATE_FILL = '#fff6d6';
const STATE_LINE = '#b8860b';
const CLUSTER_FILL = '#fbfaf7';
const CLUSTER_LINE = '#c9c2b4';

/** Text inside a DOT double-quoted string. */
const escaped = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
/** A DOT double-quoted string. */
const quoted = (text: string): string => `"${escaped(text)}"`;

/** Labels one per line, a guarded one as its trigger (once for a run of the same trigger) and the guard indented below. */
function groupByTrigger(labels: readonly string[]): string[] {
  const lines: string[] = [];
  let trigger: string | undefined;
  for (const text of labels) {
    const guard = text.indexOf(' [');
    if (guard < 0) {
      lines.push(text);
      trigger = undefined;
      continue;
    }
    const head = text.slice(0, guard);
    if (head !== trigger) lines.push(head);
    lines.push(`  ${text.slice(guard + 1)}`);
    trigger = head;
  }
  return lines;
}

/** An edge label, left-aligned (DOT's `\\l`), grouped by trigger so an edge stays narrow. */
function edgeText(labels: readonly string[], wrap = true): string {
  return `"${(wrap ? groupByTrigger(labels) : labels).map((line) => `${escaped(line)}\\l`).join('')}"`;
}

/** Text for an HTML-like label. */
const html = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** The widest note line, in characters, before a note's actions wrap. */
const NOTE_WIDTH = 44;

/** A long `event / action, action, …` note as its event line and its actions packed below, so a state stays narrow. */
function wrapNote(text: string): string[] {
  const slash = text.indexOf(' / ');
  if (text.length <= NOTE_WIDTH || slash < 0) return [text];
  const lines = [text.slice(0, slash + 2)];
  let line = '';
  for (const action of text.slice(slash + 3).split(', ')) {
    const next = line === '' ? action : `${line}, ${action}`;
    if (next.length > NOTE_WIDTH && line !== '') {
      lines.push(`${line},`);
      line = action;
    } else {
      line = next;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * The name in bold, then each note as a smaller second line (a long one wrapped), then the
 * labels of the state's self-transitions (`↻ trigger`, guards below): inside
 * the box, where no other edge can cross them.
 */
function stateLabel(node: DiagramNode, loops: readonly string[] = []): string {
  // A cluster's title sits in its top-left corner, so its lines align left; a state's are centred in its box.
  const align = isCluster(node) ? 'LEFT' : 'CENTER';
  const small = (text: string): string => `<BR ALIGN="${align}"/><FONT POINT-SIZE="9" COLOR="${MUTED}">${html(text)}</FONT>`;
  const loopLines = loops.length === 0 ? [] : groupByTrigger(loops).map((line, index) => (index === 0 || !line.startsWith(' ') ? `↻ ${line}` : line.trim()));
  const lines = [...node.notes.flatMap(wrapNote), ...loopLines].map(small).join('');
  return `<<B>${html(node.label)}</B>${lines}${lines !== '' && isCluster(node) ? '<BR ALIGN="LEFT"/>' : ''}>`;
}

const isCluster = (node: DiagramNode): boolean => node.children.length > 0;

/** The node edges use for a compound state: its initial dot (drawn inside its cluster). */
const anchorOf = (node: DiagramNode): string => `${node.id}__start`;

function nodeLines(node: DiagramNode, layout: Layout, indent: string): string[] {
  const loops = layout.edges.filter((edge) => edge.from === node.id && edge.to === node.id).flatMap((edge) => edge.labels);
  if (!isCluster(node)) {
    const final = node.kind === 'final' ? ', peripheries=2' : '';
    return [`${indent}${node.id} [id=${quoted(`state:${node.stateId}`)}, label=${stateLabel(node, loops)}${final}];`];
  }
  const inner = `${indent}  `;
  const lines = [
    `${indent}subgraph cluster_${node.id} {`,
    `${inner}id=${quoted(`state:${node.stateId}`)}; label=${stateLabel(node, loops)};`,
    `${inner}style="rounded,filled"; fillcolor=${quoted(CLUSTER_FILL)}; color=${quoted(CLUSTER_LINE)}; fontsize=11; fontcolor=${quoted(INK)}; labeljust=l; labelloc=t; margin=10;`,
    `${inner}${anchorOf(node)} [shape=point, width=0.09, style=filled, color=${quoted(INK)}, fillcolor=${quoted(INK)}, label=""];`
  ];
  if (node.initial !== undefined) lines.push(`${inner}${anchorOf(node)} -> ${node.initial} [arrowsize=0.5];`);
  for (const child of node.children) lines.push(...nodeLines(child, layout, inner));
  lines.push(...labelNodes(node.id, layout, inner));
  lines.push(...stacking(node.children, inner, false));
  lines.push(`${indent}}`);
  return lines;
}

/** The model indexed for writing DOT: states by id, each state's parent (`undefined` at the top level), the edges. */
interface Layout {
  readonly nodes: ReadonlyMap<string, DiagramNode>;
  readonly parents: ReadonlyMap<string, string | undefined>;
  readonly edges: readonly DiagramEdge[];
}

/** Where an edge's label node lives: the innermost compound state holding both ends, else the source's outermost one. */
function scopeOf(edge: DiagramEdge, layout: Layout): string | undefined {
  const chain = (id: string): Array<string | undefined> => {
    const up: Array<string | undefined> = [];
    for (let parent = layout.parents.get(id); parent !== undefined; parent = layout.parents.get(parent)) up.push(parent);
    return up;
  };
  const above = new Set(chain(edge.to));
  const from = chain(edge.from);
  // An edge out of a top-level cluster keeps its label inside, near its source:
  // outside, the labels of every such edge would stack up in lanes beside the cluster.
  return from.find((id) => above.has(id)) ?? from[from.length - 1];
}

const labelNodeOf = (edge: DiagramEdge): string => `${edge.from}__to__${edge.to}`;

/** The label nodes of the edges drawn in one scope. */
function labelNodes(scope: string | undefined, layout: Layout, indent: string): string[] {
  return layout.edges
    .filter((edge) => edge.from !== edge.to && scopeOf(edge, layout) === scope)
    .map(
      (edge) =>
        `${indent}${labelNodeOf(edge)} [id=${quoted(transitionId(edge, layout))}, shape=plaintext, style="", margin="0.02,0.01", height=0, width=0, fontsize=9, fontcolor=${quoted(MUTED)}, label=${edgeText(edge.labels)}];`
    );
}

function transitionId(edge: DiagramEdge, layout: Layout): string {
  return `transition:${layout.nodes.get(edge.from)?.stateId ?? edge.from}->${layout.nodes.get(edge.to)?.stateId ?? edge.to}`;
}

/**
 * An edge, drawn through its label: the label is a node of its own, so the
 * layout gives it room like a state and no label lands on another. A
 * self-transition is not drawn as a loop: its label is inside the state's box.
 */
function edgeLines(edge: DiagramEdge, layout: Layout): string[] {
  const from = layout.nodes.get(edge.from);
  const to = layout.nodes.get(edge.to);
  if (from === undefined || to === undefined) throw new Error(`edge ${edge.from} -> ${edge.to} names an unknown state`);
  const tail = isCluster(from) ? anchorOf(from) : from.id;
  const head = isCluster(to) ? anchorOf(to) : to.id;
  // A self-transition is read inside its state (↻ trigger): no bare, unlabelled loop beside it.
  if (from === to) return [];
  const middle = labelNodeOf(edge);
  const ltail = isCluster(from) ? `, ltail=cluster_${from.id}` : '';
  const lhead = isCluster(to) ? `, lhead=cluster_${to.id}` : '';
  return [`  ${tail} -> ${middle} [arrowhead=none${ltail}];`, `  ${middle} -> ${head} [${lhead.slice(2)}];`];
}

function leavesOf(node: DiagramNode): DiagramNode[] {
  return isCluster(node) ? node.children.flatMap(leavesOf) : [node];
}

/**
 * Invisible edges that keep sibling states in definition order, top to
 * bottom (a state below every leaf of the one before it), so the chart grows
 * downwards instead of spreading its states side by side.
 */
function stacking(states: readonly DiagramNode[], indent: string, top: boolean): string[] {
  const lines: string[] = [];
  states.forEach((state, position) => {
    const next = states[position + 1];
    // A top-level cluster holds the main flow; what follows it sits beside it, near the edges it receives.
    if (next === undefined || (top && isCluster(state))) return;
    const head = isCluster(next) ? anchorOf(next) : next.id;
    for (const leaf of leavesOf(state)) lines.push(`${indent}${leaf.id} -> ${head} [style=invis, weight=0];`);
  });
  return lines;
}

function layoutOf(model: DiagramModel): Layout {
  const nodes = new Map<string, DiagramNode>();
  const parents = new Map<string, string | undefined>();
  const visit = (node: DiagramNode, parent: string | undefined): void => {
    nodes.set(node.id, node);
    parents.set(node.id, parent);
    for (const child of node.children) visit(child, node.id);
  };
  for (const child of model.root.children) visit(child, undefined);
  return { nodes, parents, edges: model.edges };
}

/**
 * Writes a diagram model as a Graphviz DOT graph, laid out top to bottom:
 * compound states are clusters, each state shows its name with its notes as
 * smaller second lines, every edge keeps its labels (one per line), and the
 * root's target-less transitions become the graph's caption. Element ids
 * (`state:<xstate id>`, `transition:<from>-><to>`) survive into the SVG.
 *
 * @example
 * ```ts
 * const dot = toDot(machineToModel(workerMachine, 'worker'));
 * ```
 */
export function toDot(model: DiagramModel): string {
  const layout = layoutOf(model);
  const nodes = layout.nodes;
  const caption = model.everywhere.length > 0 ? edgeText(['in every state:', ...model.everywhere], false) : '""';
  const lines = [
    `digraph ${quoted(model.name)} {`,
    `  graph [rankdir=TB, compound=true, newrank=true, nodesep=0.12, ranksep=0.3, pad=0.15, fontname=${quoted(DIAGRAM_FONT)}, fontsize=10, fontcolor=${quoted(MUTED)}, labeljust=l, labelloc=b, label=${caption}];`,
    `  node [shape=box, style="rounded,filled", fillcolor=${quoted(STATE_FILL)}, color=${quoted(STATE_LINE)}, fontname=${quoted(DIAGRAM_FONT)}, fontsize=11, fontcolor=${quoted(INK)}, margin="0.14,0.05", height=0.3];`,
    `  edge [fontname=${quoted(DIAGRAM_FONT)}, fontsize=9, fontcolor=${quoted(MUTED)}, color=${quoted(MUTED)}, arrowsize=0.6];`,
    `  __start [shape=point, width=0.12, style=filled, color=${quoted(INK)}, fillcolor=${quoted(INK)}, label=""];`
  ];
  for (const child of model.root.children) lines.push(...nodeLines(child, layout, '  '));
  lines.push(...labelNodes(undefined, layout, '  '));
  const first = model.root.initial === undefined ? undefined : nodes.get(model.root.initial);
  if (first !== undefined) {
    lines.push(`  __start -> ${isCluster(first) ? `${anchorOf(first)} [lhead=cluster_${first.id}, arrowsize=0.5]` : `${first.id} [arrowsize=0.5]`};`);
  }
  for (const edge of model.edges) lines.push(...edgeLines(edge, layout));
  lines.push(...stacking(model.root.children, '  ', true));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
