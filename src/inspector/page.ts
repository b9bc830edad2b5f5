import { INSPECTOR_PAGE } from './page-html.ts';

/**
 * The self-contained inspector page (`visualizations/inspector.html`). It is
 * compiled into the code (`page-html.ts`, written by `npm run diagrams`), so it
 * is there in an installed package and in a bundle: nothing is read from disk.
 */
export async function loadInspectorPage(): Promise<string> {
  return INSPECTOR_PAGE;
}
