import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

// From src/inspector/ (tsx, vitest) and from dist/src/inspector/ (the build), the
// repository's visualizations/ folder is two or three levels up.
const CANDIDATES = ['../../visualizations/inspector.html', '../../../visualizations/inspector.html'];

/** Reads the self-contained inspector page shipped in `visualizations/`. */
export async function loadInspectorPage(): Promise<string> {
  for (const candidate of CANDIDATES) {
    const file = new URL(candidate, import.meta.url);
    if (existsSync(file)) return readFile(file, 'utf8');
  }
  throw new Error(`Cannot find visualizations/inspector.html (looked in ${CANDIDATES.join(', ')} from ${import.meta.url})`);
}
