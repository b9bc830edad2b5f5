/**
 * The inspector page travels inside the code: `src/inspector/page-html.ts`
 * holds `visualizations/inspector.html` as a string constant, so
 * `createInspector()` finds it in an installed package (which ships no
 * `visualizations/`) and in a bundle. `npm run diagrams` rewrites it; a test
 * fails when it is stale.
 */

const SVG_BLOCK = /<!-- svg: ([a-z0-9-]+) -->\n[\s\S]*?<!-- \/svg -->/g;

/**
 * Puts each generated SVG the page names between its markers
 * (`<!-- svg: worker-public -->` … `<!-- /svg -->`); names without an SVG are left alone.
 */
export function refreshPageSvgs(html: string, svgByName: Readonly<Record<string, string>>): string {
  return html.replace(SVG_BLOCK, (block, name: string) => {
    const svg = svgByName[name];
    return svg === undefined ? block : `<!-- svg: ${name} -->\n${svg}<!-- /svg -->`;
  });
}

/** The TypeScript module that carries `html` (the inspector page). */
export function inspectorPageModule(html: string): string {
  return [
    '// Generated from visualizations/inspector.html by `npm run diagrams`; do not edit.',
    '',
    '/** The inspector page: one self-contained HTML file (no CDN). */',
    `export const INSPECTOR_PAGE: string = ${JSON.stringify(html)};`,
    ''
  ].join('\n');
}
