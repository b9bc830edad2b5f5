import type { DiagramModel, DiagramNode } from './model.ts';

// Monospace text keeps width estimates honest without a font engine.
export const CHAR_W = 7.3;
export const NOTE_CHAR_W = 6.1;
export const NOTE_LINE = 14;
export const PAD = 14;
const LEAF_H = 30;
const TITLE_H = 22;
const START_ROOM = 28;
const COLUMN_GAP = 150;
const STACK_GAP = 56;
const REGION_GAP = 14;

/** An absolute rectangle in SVG user units. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A laid-out state: its size and its children's offsets inside it. */
interface Box {
  node: DiagramNode;
  w: number;
  h: number;
  children: Array<{ box: Box; dx: number; dy: number }>;
}

function leafBox(node: DiagramNode): Box {
  const widest = Math.max(node.label.length * CHAR_W, ...node.notes.map((note) => note.length * NOTE_CHAR_W));
  return { node, w: Math.round(Math.max(90, widest + 2 * PAD)), h: LEAF_H + node.notes.length * NOTE_LINE, children: [] };
}

/** For each state id, the chain of ids from the root down to it (inclusive). */
export function pathsOf(root: DiagramNode): Map<string, string[]> {
  const paths = new Map<string, string[]>();
  const visit = (node: DiagramNode, above: string[]): void => {
    const path = [...above, node.id];
    paths.set(node.id, path);
    for (const child of node.children) visit(child, path);
  };
  visit(root, []);
  return paths;
}

/**
 * Columns for the children of a compound state: each child's rank is its
 * longest distance from the initial child along transitions between the
 * children's subtrees, ignoring edges that lead back (DFS back edges).
 */
function rankColumns(node: DiagramNode, model: DiagramModel, paths: Map<string, string[]>): DiagramNode[][] {
  const ids = node.children.map((child) => child.id);
  const depth = (paths.get(node.id) ?? []).length;
  const childOf = (id: string): string | undefined => {
    const candidate = (paths.get(id) ?? [])[depth];
    return candidate !== undefined && ids.includes(candidate) ? candidate : undefined;
  };
  const next = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const edge of model.edges) {
    const from = childOf(edge.from);
    const to = childOf(edge.to);
    if (from !== undefined && to !== undefined && from !== to && !next.get(from)?.includes(to)) next.get(from)?.push(to);
  }
  const order: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const forward = new Map<string, string[]>(ids.map((id) => [id, []]));
  const dfs = (id: string): void => {
    state.set(id, 'open');
    for (const to of next.get(id) ?? []) {
      if (state.get(to) === 'open') continue;
      forward.get(id)?.push(to);
      if (!state.has(to)) dfs(to);
    }
    state.set(id, 'done');
    order.unshift(id);
  };
  const start = node.initial ?? ids[0];
  for (const id of start === undefined ? ids : [start, ...ids]) if (!state.has(id)) dfs(id);
  const rank = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const id of order) for (const to of forward.get(id) ?? []) rank.set(to, Math.max(rank.get(to) ?? 0, (rank.get(id) ?? 0) + 1));
  const columns: DiagramNode[][] = [];
  for (const child of node.children) (columns[rank.get(child.id) ?? 0] ??= []).push(child);
  return columns.filter((column) => column.length > 0);
}

function regionsBox(node: DiagramNode, model: DiagramModel, paths: Map<string, string[]>): Box {
  const children: Box['children'] = [];
  let y = TITLE_H + PAD;
  let width = node.label.length * CHAR_W + 2 * PAD;
  for (const region of node.children) {
    const box = layoutBox(region, model, paths);
    children.push({ box, dx: PAD, dy: y });
    y += box.h + REGION_GAP;
    width = Math.max(width, box.w + 2 * PAD);
  }
  return { node, w: Math.round(width), h: y - REGION_GAP + PAD, children };
}

function layoutBox(node: DiagramNode, model: DiagramModel, paths: Map<string, string[]>, isRoot = false): Box {
  if (node.children.length === 0) return leafBox(node);
  // Parallel regions are stacked: they are alive at the same time and rarely linked.
  if (node.kind === 'parallel') return regionsBox(node, model, paths);
  const top = (isRoot ? 0 : TITLE_H) + PAD;
  const columns = rankColumns(node, model, paths).map((column) => column.map((child) => layoutBox(child, model, paths)));
  const heights = columns.map((column) => column.reduce((sum, box) => sum + box.h, 0) + STACK_GAP * (column.length - 1));
  const tallest = Math.max(...heights);
  const children: Box['children'] = [];
  let x = START_ROOM + PAD;
  columns.forEach((column, index) => {
    // Centre each column vertically so the main flow reads as one line.
    let y = top + Math.round((tallest - (heights[index] ?? 0)) / 2);
    for (const box of column) {
      children.push({ box, dx: x, dy: y });
      y += box.h + STACK_GAP;
    }
    x += Math.max(...column.map((box) => box.w)) + COLUMN_GAP;
  });
  const titleWidth = node.label.length * CHAR_W + 2 * PAD;
  return { node, w: Math.round(Math.max(x - COLUMN_GAP + PAD, titleWidth)), h: top + tallest + PAD, children };
}

function place(box: Box, x: number, y: number, rects: Map<string, Rect>): void {
  rects.set(box.node.id, { x, y, w: box.w, h: box.h });
  for (const child of box.children) place(child.box, x + child.dx, y + child.dy, rects);
}

/**
 * Lays a diagram out deterministically: each compound state's children in
 * columns by rank (left to right along the main flow), parallel regions
 * stacked. Returns every state's absolute rectangle and the overall size.
 */
export function layoutDiagram(model: DiagramModel, x: number, y: number): { rects: Map<string, Rect>; w: number; h: number } {
  const root = layoutBox(model.root, model, pathsOf(model.root), true);
  const rects = new Map<string, Rect>();
  place(root, x, y, rects);
  return { rects, w: root.w, h: root.h };
}
