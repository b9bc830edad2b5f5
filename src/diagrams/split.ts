import { enteredLeaf, treeOf, type DiagramEdge, type DiagramModel, type DiagramNode, type DiagramTree } from './model.ts';

/**
 * Splitting a chart that Mermaid's default layout cannot draw cleanly.
 * Dagre lays out a compound state inside a compound state inside another
 * (the worker's `session` › `connected` › `hooked`) with edges leaving the
 * middle one drawn across its neighbours, labels hidden under boxes; GitHub
 * offers no other layout. So such a middle state is drawn twice: as one box
 * in its parent's chart, with every edge from or to its inside lifted onto
 * that box, and in a chart of its own with its inside, where each way out
 * ends on a plain box named after the state it leads to.
 */

const hasChildren = (node: DiagramNode): boolean => node.children.length > 0;

/** The states drawn in a chart of their own: a compound state inside a compound state that has a compound state inside it. */
export function detachedStates(model: DiagramModel): string[] {
  const { parent, nodes } = treeOf(model.root);
  return [...nodes.values()].filter((node) => hasChildren(node) && parent.get(node.id) !== undefined && node.children.some(hasChildren)).map((node) => node.id);
}

/** Whether `id` is `ancestor` or lies inside it. */
function within(id: string, ancestor: string, parent: DiagramTree['parent']): boolean {
  for (let at: string | undefined = id; at !== undefined; at = parent.get(at)?.id) if (at === ancestor) return true;
  return false;
}

/** `live`, `hooked`, `hooked.live`: a state's name relative to the detached state around it. */
function relativeName(id: string, ancestor: string, tree: DiagramTree): string {
  const names: string[] = [];
  for (let at = tree.nodes.get(id); at !== undefined && at.id !== ancestor; at = tree.parent.get(at.id)) names.unshift(at.label);
  return names.join('.');
}

/** Edges with the same ends and scope become one, their labels in order. */
function merge(edges: DiagramEdge[]): DiagramEdge[] {
  const byEnds = new Map<string, DiagramEdge>();
  for (const edge of edges) {
    const key = `${edge.from}\u0000${edge.to}\u0000${edge.scope ?? ''}`;
    const known = byEnds.get(key);
    byEnds.set(key, known === undefined ? edge : { ...known, labels: [...known.labels, ...edge.labels.filter((label) => !known.labels.includes(label))] });
  }
  return [...byEnds.values()];
}

function replaceNode(node: DiagramNode, id: string, by: (node: DiagramNode) => DiagramNode): DiagramNode {
  if (node.id === id) return by(node);
  return { ...node, children: node.children.map((child) => replaceNode(child, id, by)) };
}

/**
 * Splits `model` at the compound state `id`: the chart with `id` drawn as one
 * box (its inside named in it), and `<name>-<id>`, the chart of its inside.
 */
export function splitModel(model: DiagramModel, id: string): { outer: DiagramModel; inner: DiagramModel } {
  const tree = treeOf(model.root);
  const detached = tree.nodes.get(id);
  if (detached === undefined || !hasChildren(detached)) throw new Error(`${model.name} has no compound state ${id}`);
  // A lifted edge is listed in the state both its ends now sit in directly, beside the edges already there.
  const scopeOf = (from: string, to: string): string | undefined => {
    const parent = tree.parent.get(from)?.id;
    return parent === tree.parent.get(to)?.id ? parent : undefined;
  };
  const inside = (state: string): boolean => state !== id && within(state, id, tree.parent);
  const innerName = `${model.name}-${id}`;

  const outerEdges: DiagramEdge[] = [];
  for (const edge of model.edges) {
    const from = inside(edge.from);
    const to = inside(edge.to) || (edge.to === id && from);
    if (from && to) continue;
    if (from)
      outerEdges.push({ ...edge, from: id, scope: scopeOf(id, edge.to), labels: edge.labels.map((label) => `${label} (in ${relativeName(edge.from, id, tree)})`) });
    else if (to)
      outerEdges.push({ ...edge, to: id, scope: scopeOf(edge.from, id), labels: edge.labels.map((label) => `${label} (to ${relativeName(edge.to, id, tree)})`) });
    else outerEdges.push(edge);
  }
  const names = detached.children.map((child) => child.label).join(', ');
  const outerRoot = replaceNode(model.root, id, (node) => ({
    ...node,
    label: `${node.label}<br/>inside: ${names} (chart ${innerName})`,
    children: [],
    initial: undefined
  }));

  // The inner chart: self-transitions are read inside their state (↻), ways out end on a plain box.
  const loops = new Map<string, string[]>();
  const innerEdges: DiagramEdge[] = [];
  const exits = new Map<string, DiagramNode>();
  for (const edge of model.edges) {
    if (!inside(edge.from)) continue;
    if (edge.from === edge.to) {
      loops.set(edge.from, [...(loops.get(edge.from) ?? []), ...edge.labels]);
      continue;
    }
    if (inside(edge.to) || edge.to === id) {
      innerEdges.push(edge);
      continue;
    }
    const source = tree.nodes.get(edge.from) as DiagramNode;
    const leaf = enteredLeaf(source);
    const target = tree.nodes.get(edge.to) as DiagramNode;
    exits.set(target.id, { ...target, children: [], initial: undefined, notes: [], kind: 'atomic' });
    const labels = leaf === source ? edge.labels : edge.labels.map((label) => `${label} (in ${relativeName(source.id, id, tree)})`);
    innerEdges.push({ from: leaf.id, to: target.id, labels, scope: undefined });
  }
  const withLoops = (node: DiagramNode): DiagramNode => ({
    ...node,
    notes: [...node.notes, ...(loops.get(node.id) ?? []).map((label) => `↻ ${label}`)],
    children: node.children.map(withLoops)
  });
  const innerRoot: DiagramNode = { ...model.root, children: [withLoops(detached), ...exits.values()], initial: undefined };
  return {
    outer: { ...model, root: outerRoot, edges: merge(outerEdges) },
    inner: { name: innerName, root: innerRoot, edges: merge(innerEdges), everywhere: [] }
  };
}
