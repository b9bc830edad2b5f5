import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { DIAGRAM_FONT, toDot } from './dot.ts';
import type { DiagramModel } from './model.ts';

let graphviz: Promise<Graphviz> | undefined;

/**
 * Graphviz rounds the picture's size down to whole points while its
 * background (and, rarely, a curve) may reach a fraction beyond: grows
 * `width`, `height` and `viewBox` to whole points that hold the background.
 */
function fitViewBox(svg: string): string {
  const translate = /transform="scale\(1 1\) rotate\(0\) translate\(([\d.]+) ([\d.]+)\)"/.exec(svg);
  const background = /<polygon fill="[^"]*" stroke="none" points="([^"]+)"/.exec(svg);
  if (translate === null || background === null) return svg;
  const points = (background[1] ?? '').split(' ').map((pair) => pair.split(',').map(Number));
  const width = Math.ceil(Number(translate[1]) + Math.max(...points.map(([x = 0]) => x)));
  const height = Math.ceil(Number(translate[2]) + Math.max(...points.map(([, y = 0]) => y)));
  return svg.replace(/<svg width="([\d.]+)pt" height="([\d.]+)pt"\n viewBox="0\.00 0\.00 ([\d.]+) ([\d.]+)"/, (_match, w: string, h: string) => {
    const fitW = Math.max(width, Number(w));
    const fitH = Math.max(height, Number(h));
    return `<svg width="${fitW}pt" height="${fitH}pt"\n viewBox="0.00 0.00 ${fitW.toFixed(2)} ${fitH.toFixed(2)}"`;
  });
}

/**
 * Lays a diagram model out with Graphviz's `dot` engine (compiled to
 * WebAssembly, shipped inside the `@hpcc-js/wasm-graphviz` package, so it
 * runs offline) and returns the SVG. The same model always gives the same bytes.
 *
 * @example
 * ```ts
 * writeFileSync('worker.svg', await toSvg(machineToModel(workerMachine, 'worker')));
 * ```
 */
export async function toSvg(model: DiagramModel): Promise<string> {
  graphviz ??= Graphviz.load();
  const svg = (await graphviz).dot(toDot(model), 'svg');
  // The leading comments name the Graphviz build; the picture does not depend on them.
  return (
    fitViewBox(svg)
      .replace(/^<\?xml[^>]*>\n/, '')
      .replace(/<!DOCTYPE[^>]*>\n/, '')
      .replace(/<!--[\s\S]*?-->\n/g, '')
      // Laid out with Verdana's metrics; DejaVu Sans has the same widths where Verdana is missing.
      .replaceAll(`font-family="${DIAGRAM_FONT}"`, `font-family="${DIAGRAM_FONT}, DejaVu Sans, sans-serif"`)
  );
}
