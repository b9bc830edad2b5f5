/**
 * `npm run diagrams`: writes `visualizations/<name>.mmd` and `<name>.svg` for
 * every machine in `machines/` (and `machines/examples/`), then refreshes the
 * diagrams embedded in README.md and docs/*.md, and the module that carries
 * the inspector page (`src/inspector/page-html.ts`). Only files whose content changed are written.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { collectDiagrams } from './collect.ts';
import { inspectorPageModule, refreshPageSvgs } from './inspector-page.ts';
import { documentPages, refreshReadme } from './readme-blocks.ts';

const ROOT = new URL('../../', import.meta.url);
const OUT = new URL('visualizations/', ROOT);

/** Writes `text` to `file` unless it already holds exactly that; returns whether it wrote. */
function writeIfChanged(file: URL, text: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileSync(file, text);
  return true;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const diagrams = await collectDiagrams();
  for (const diagram of diagrams) {
    const wrote = [
      writeIfChanged(new URL(`${diagram.name}.mmd`, OUT), diagram.mermaid),
      diagram.svg !== undefined && writeIfChanged(new URL(`${diagram.name}.svg`, OUT), diagram.svg)
    ].some(Boolean);
    console.log(`${wrote ? 'wrote    ' : 'unchanged'} visualizations/${diagram.name}.${diagram.svg === undefined ? 'mmd' : '{mmd,svg}'}  (${diagram.source})`);
  }
  const pageFile = new URL('inspector.html', OUT);
  const page = refreshPageSvgs(
    readFileSync(pageFile, 'utf8'),
    Object.fromEntries(diagrams.flatMap((diagram) => (diagram.svg === undefined ? [] : [[diagram.name, diagram.svg]])))
  );
  console.log(`${writeIfChanged(pageFile, page) ? 'wrote    ' : 'unchanged'} visualizations/inspector.html  (its worker chart)`);
  const pageModule = inspectorPageModule(page);
  console.log(
    `${writeIfChanged(new URL('src/inspector/page-html.ts', ROOT), pageModule) ? 'wrote    ' : 'unchanged'} src/inspector/page-html.ts  (visualizations/inspector.html)`
  );
  const mermaid = Object.fromEntries(diagrams.map((diagram) => [diagram.name, diagram.mermaid]));
  for (const page of documentPages(ROOT)) {
    const file = new URL(page, ROOT);
    const text = readFileSync(file, 'utf8');
    const refreshed = refreshReadme(text, mermaid);
    if (refreshed !== text || text.includes('<!-- diagram: ')) console.log(`${writeIfChanged(file, refreshed) ? 'wrote    ' : 'unchanged'} ${page} diagrams`);
  }
}

main().catch((error: unknown) => {
  console.error('diagrams failed:', error);
  process.exitCode = 1;
});
