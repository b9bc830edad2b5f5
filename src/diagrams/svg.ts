import type { DiagramEdge, DiagramModel, DiagramNode } from './model.ts';
import { layoutDiagram, NOTE_CHAR_W, NOTE_LINE, PAD, pathsOf, type Rect } from './svg-layout.ts';

type Side = 'left' | 'right' | 'top' | 'bottom';
type Point = [number, number];

/** One edge end: the rectangle, the side it leaves from, and where the other end is. */
interface End {
  rect: Rect;
  side: Side;
  toward: Point;
  key: string;
}

const LABEL_LINE = 13;

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const center = (r: Rect): Point => [r.x + r.w / 2, r.y + r.h / 2];

/** Which sides an edge uses: right→left going forward, bottom→bottom going back, top/bottom when stacked. */
function sides(a: Rect, b: Rect): [Side, Side] {
  if (b.x >= a.x + a.w) return ['right', 'left'];
  if (b.x + b.w <= a.x) return ['bottom', 'bottom'];
  return b.y >= a.y + a.h ? ['bottom', 'top'] : ['top', 'bottom'];
}

/** Spreads the ends sharing a side evenly along it, ordered by where they point. */
function anchors(ends: End[]): Map<string, Point> {
  const groups = new Map<string, End[]>();
  for (const end of ends) {
    const id = `${end.rect.x},${end.rect.y},${end.side}`;
    groups.set(id, [...(groups.get(id) ?? []), end]);
  }
  const points = new Map<string, Point>();
  for (const group of groups.values()) {
    const vertical = group[0]?.side === 'left' || group[0]?.side === 'right';
    group.sort((p, q) => (vertical ? p.toward[1] - q.toward[1] : p.toward[0] - q.toward[0]) || (p.key < q.key ? -1 : 1));
    group.forEach((end, index) => {
      const share = (index + 1) / (group.length + 1);
      const r = end.rect;
      const x = end.side === 'left' ? r.x : end.side === 'right' ? r.x + r.w : r.x + r.w * share;
      const y = end.side === 'top' ? r.y : end.side === 'bottom' ? r.y + r.h : r.y + r.h * share;
      points.set(end.key, [Math.round(x), Math.round(y)]);
    });
  }
  return points;
}

const OUTWARD: Record<Side, Point> = { left: [-1, 0], right: [1, 0], top: [0, -1], bottom: [0, 1] };

/** Whether the segment p→q passes through `r` (sampled; exact enough for routing). */
function crosses(p: Point, q: Point, r: Rect): boolean {
  for (let i = 1; i < 20; i++) {
    const x = p[0] + ((q[0] - p[0]) * i) / 20;
    const y = p[1] + ((q[1] - p[1]) * i) / 20;
    if (x > r.x && x < r.x + r.w && y > r.y && y < r.y + r.h) return true;
  }
  return false;
}

/**
 * A cubic curve leaving and entering perpendicular to the sides. Back edges
 * dip below both boxes; an edge whose straight line would cut through other
 * states arches over (or under) them, `lane` spreading such arches apart.
 */
function curve(p: Point, ps: Side, q: Point, qs: Side, ends: [Rect, Rect], obstacles: Rect[], lane: number): [Point, Point, Point, Point] {
  const [a, b] = ends;
  const reach = Math.max(40, Math.abs(q[0] - p[0]) / 3);
  if (ps === 'bottom' && qs === 'bottom') {
    const low = Math.max(a.y + a.h, b.y + b.h) + 36 + lane * 12;
    return [p, [p[0], low], [q[0], low], q];
  }
  const c1: Point = [p[0] + OUTWARD[ps][0] * reach, p[1] + OUTWARD[ps][1] * 30];
  const c2: Point = [q[0] + OUTWARD[qs][0] * reach, q[1] + OUTWARD[qs][1] * 30];
  const blocking = obstacles.filter((r) => crosses(p, q, r));
  if (blocking.length === 0 || ps === 'top' || ps === 'bottom') return [p, c1, c2, q];
  const top = Math.min(...blocking.map((r) => r.y));
  const bottom = Math.max(...blocking.map((r) => r.y + r.h));
  const mid = (p[1] + q[1]) / 2;
  // A cubic with both control points at y peaks at 3/4 of the way there.
  const clear = mid - top <= bottom - mid ? top - 18 - lane * 12 : bottom + 18 + lane * 12;
  const y = mid + ((clear - mid) * 4) / 3;
  return [p, [c1[0], y], [c2[0], y], q];
}

function at(points: [Point, Point, Point, Point], t: number): Point {
  const u = 1 - t;
  const [p0, p1, p2, p3] = points;
  const mix = (i: 0 | 1): number => u * u * u * p0[i] + 3 * u * u * t * p1[i] + 3 * u * t * t * p2[i] + t * t * t * p3[i];
  return [mix(0), mix(1)];
}

const overlaps = (r: Rect, s: Rect): boolean => r.x < s.x + s.w && s.x < r.x + r.w && r.y < s.y + s.h && s.y < r.y + r.h;

/** Places labels where they cover neither another label nor a simple state, trying points along the curve. */
function labelRect(lines: readonly string[], points: [Point, Point, Point, Point], taken: Rect[]): Rect {
  const w = Math.round(Math.max(...lines.map((line) => line.length)) * NOTE_CHAR_W + 6);
  const h = lines.length * LABEL_LINE + 4;
  const candidates = [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78].map((t) => {
    const [x, y] = at(points, t);
    return { x: Math.round(x - w / 2), y: Math.round(y - h / 2), w, h };
  });
  const chosen = candidates.find((r) => !taken.some((s) => overlaps(r, s))) ?? (candidates[0] as Rect);
  taken.push(chosen);
  return chosen;
}

function drawLabel(lines: readonly string[], r: Rect, out: string[]): void {
  out.push(`<rect x="${r.x}" y="${r.y}" width="${r.w}" height="${r.h}" class="label-bg"/>`);
  lines.forEach((line, index) => {
    out.push(`<text x="${r.x + 3}" y="${r.y + LABEL_LINE + index * LABEL_LINE - 1}" class="label">${escape(line)}</text>`);
  });
}

/** Every state an edge must not cut through: all but its ends, their ancestors and their descendants. */
function obstaclesFor(edge: DiagramEdge, rects: Map<string, Rect>, paths: Map<string, string[]>): Rect[] {
  const related = new Set([...(paths.get(edge.from) ?? []), ...(paths.get(edge.to) ?? [])]);
  const result: Rect[] = [];
  for (const [id, path] of paths) {
    if (related.has(id) || path.includes(edge.from) || path.includes(edge.to) || path.length === 1) continue;
    const r = rects.get(id);
    if (r !== undefined) result.push(r);
  }
  return result;
}

function drawEdges(model: DiagramModel, rects: Map<string, Rect>, taken: Rect[], out: string[]): void {
  const edges = model.edges;
  const paths = pathsOf(model.root);
  let lane = 0;
  const ends: End[] = [];
  const routed: Array<{ edge: DiagramEdge; a: Rect; b: Rect; s: [Side, Side]; key: string }> = [];
  edges.forEach((edge, index) => {
    const a = rects.get(edge.from);
    const b = rects.get(edge.to);
    if (a === undefined || b === undefined) return;
    const key = String(index);
    if (edge.from === edge.to) return routed.push({ edge, a, b, s: ['top', 'top'], key });
    const s = sides(a, b);
    routed.push({ edge, a, b, s, key });
    ends.push({ rect: a, side: s[0], toward: center(b), key: `${key}:from` }, { rect: b, side: s[1], toward: center(a), key: `${key}:to` });
  });
  const points = anchors(ends);
  for (const { edge, a, b, s, key } of routed) {
    const self = edge.from === edge.to;
    const p = self ? ([a.x + a.w * 0.3, a.y] as Point) : (points.get(`${key}:from`) ?? center(a));
    const q = self ? ([a.x + a.w * 0.7, a.y] as Point) : (points.get(`${key}:to`) ?? center(b));
    const c = self
      ? ([p, [p[0] - 10, p[1] - 40], [q[0] + 10, q[1] - 40], q] as [Point, Point, Point, Point])
      : curve(p, s[0], q, s[1], [a, b], obstaclesFor(edge, rects, paths), lane);
    if (!self && (c[1][1] !== p[1] + OUTWARD[s[0]][1] * 30 || s[0] === s[1])) lane += 1;
    const d = `M ${p[0]} ${p[1]} C ${c[1][0]} ${c[1][1]}, ${c[2][0]} ${c[2][1]}, ${q[0]} ${q[1]}`;
    out.push(`<path d="${d.replace(/\d+\.\d+/g, (n) => String(Math.round(Number(n))))}" class="edge" marker-end="url(#arrow)"/>`);
    drawLabel(edge.labels, labelRect(edge.labels, self ? [[p[0], p[1] - 40], [p[0], p[1] - 40], [q[0], q[1] - 40], [q[0], q[1] - 40]] : c, taken), out);
  }
}

function drawState(node: DiagramNode, rects: Map<string, Rect>, isRoot: boolean, out: string[]): void {
  const r = rects.get(node.id);
  if (r === undefined) return;
  if (!isRoot && node.children.length > 0) {
    const dash = node.kind === 'parallel' ? ' stroke-dasharray="6 4"' : '';
    out.push(`<rect x="${r.x}" y="${r.y}" width="${r.w}" height="${r.h}" rx="10" class="compound"${dash}/>`);
    out.push(`<text x="${r.x + PAD}" y="${r.y + 16}" class="title">${escape(node.label)}</text>`);
  } else if (!isRoot) {
    out.push(`<rect x="${r.x}" y="${r.y}" width="${r.w}" height="${r.h}" rx="8" class="leaf"/>`);
    if (node.kind === 'final') out.push(`<rect x="${r.x + 3}" y="${r.y + 3}" width="${r.w - 6}" height="${r.h - 6}" rx="6" class="leaf"/>`);
    out.push(`<text x="${r.x + r.w / 2}" y="${r.y + 19}" class="name">${escape(node.label)}</text>`);
    node.notes.forEach((note, index) => {
      out.push(`<text x="${r.x + r.w / 2}" y="${r.y + 19 + (index + 1) * NOTE_LINE}" class="note">${escape(note)}</text>`);
    });
  }
  const initial = node.initial === undefined ? undefined : rects.get(node.initial);
  if (initial !== undefined) {
    const cy = Math.round(initial.y + initial.h / 2);
    out.push(`<circle cx="${initial.x - 20}" cy="${cy}" r="5" class="start"/>`);
    out.push(`<path d="M ${initial.x - 15} ${cy} L ${initial.x - 1} ${cy}" class="edge" marker-end="url(#arrow)"/>`);
  }
  for (const child of node.children) drawState(child, rects, false, out);
}

function leafRects(node: DiagramNode, rects: Map<string, Rect>): Rect[] {
  const own = node.children.length === 0 ? [rects.get(node.id)].filter((r): r is Rect => r !== undefined) : [];
  return [...own, ...node.children.flatMap((child) => leafRects(child, rects))];
}

const STYLE = [
  'text{font-family:ui-monospace,Menlo,Consolas,monospace;fill:#24292f}',
  '.compound{fill:#f6f8fa;stroke:#57606a;stroke-width:1.2}',
  '.leaf{fill:#ffffff;stroke:#24292f;stroke-width:1.4}',
  '.title{font-size:12px;font-weight:bold}',
  '.name{font-size:12px;text-anchor:middle}',
  '.note{font-size:10px;text-anchor:middle;fill:#57606a}',
  '.edge{fill:none;stroke:#57606a;stroke-width:1.2}',
  '.label{font-size:10px;fill:#0550ae}',
  '.label-bg{fill:#ffffff;fill-opacity:0.85}',
  '.start{fill:#24292f}',
  '.heading{font-size:14px;font-weight:bold}'
].join('');

/**
 * Renders a diagram model as a standalone SVG with a deterministic layout
 * (see `layoutDiagram`): states as boxes, compound states holding their
 * children, transitions as curved arrows labelled with their events. Needs no
 * renderer or font engine, so it runs offline and gives the same bytes every time.
 *
 * @example
 * ```ts
 * writeFileSync('worker.svg', toSvg(machineToModel(workerMachine, 'worker')));
 * ```
 */
export function toSvg(model: DiagramModel): string {
  const margin = 24;
  const top = margin + 40;
  const { rects, w, h } = layoutDiagram(model, margin, top);
  const body: string[] = [];
  drawState(model.root, rects, true, body);
  const taken = leafRects(model.root, rects);
  drawEdges(model, rects, taken, body);
  let height = top + h + 60;
  if (model.everywhere.length > 0) {
    const lines = ['in every state:', ...model.everywhere];
    drawLabel(lines, { x: margin, y: height - 20, w: Math.round(Math.max(...lines.map((l) => l.length)) * NOTE_CHAR_W + 6), h: lines.length * LABEL_LINE + 4 }, body);
    height += lines.length * LABEL_LINE;
  }
  const width = w + 2 * margin;
  const head = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escape(model.name)} state machine</title>`,
    `<style>${STYLE}</style>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#57606a"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin}" y="${margin + 8}" class="heading">${escape(model.name)} (generated from the machine definition by npm run diagrams)</text>`
  ];
  return [...head, ...body, '</svg>'].join('\n') + '\n';
}
