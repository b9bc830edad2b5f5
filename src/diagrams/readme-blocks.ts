import { existsSync, readdirSync } from 'node:fs';

/**
 * The README and the pages in `docs/` embed generated diagrams between marker comments:
 *
 *     <!-- diagram: worker -->
 *     ```mermaid
 *     …
 *     ```
 *     <!-- /diagram -->
 *
 * `npm run diagrams` rewrites what lies between the markers; a test checks it.
 */

/** The Markdown pages that may embed diagrams: `README.md` and `docs/*.md`, relative to `root`. */
export function documentPages(root: URL): string[] {
  const docs = new URL('docs/', root);
  const pages = existsSync(docs)
    ? readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => `docs/${name}`)
    : [];
  return ['README.md', ...pages];
}

const BLOCK = /<!-- diagram: ([a-z0-9-]+) -->\n[\s\S]*?<!-- \/diagram -->/g;

/** The Mermaid fence a README block holds for a diagram. */
export function mermaidFence(mermaid: string): string {
  return `\`\`\`mermaid\n${mermaid}\`\`\`\n`;
}

/** The names of the diagrams a README embeds, in order of appearance. */
export function embeddedDiagrams(readme: string): string[] {
  return [...readme.matchAll(BLOCK)].map((match) => match[1] ?? '');
}

/** The text between one diagram's markers, or `undefined` if the README does not embed it. */
export function embeddedBlock(readme: string, name: string): string | undefined {
  for (const match of readme.matchAll(BLOCK)) {
    if (match[1] === name) return match[0].slice(match[0].indexOf('\n') + 1, -'<!-- /diagram -->'.length);
  }
  return undefined;
}

/**
 * Replaces each embedded diagram with the current Mermaid text; blocks for
 * diagrams that no longer exist are left alone.
 *
 * @example
 * ```ts
 * writeFileSync('README.md', refreshReadme(readFileSync('README.md', 'utf8'), { worker: mermaidText }));
 * ```
 */
export function refreshReadme(readme: string, mermaidByName: Readonly<Record<string, string>>): string {
  return readme.replace(BLOCK, (block, name: string) => {
    const mermaid = mermaidByName[name];
    return mermaid === undefined ? block : `<!-- diagram: ${name} -->\n${mermaidFence(mermaid)}<!-- /diagram -->`;
  });
}
