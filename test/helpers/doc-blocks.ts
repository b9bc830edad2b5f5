import { readdirSync, readFileSync } from 'node:fs';

/**
 * A `ts` / `tsx` code block of a Markdown page, with what the hidden HTML
 * comments right before its fence declare:
 *
 * - `<!-- prelude: … -->`: code the block assumes (imports, a `pool`, a
 *   `url`), prepended when it is type-checked. A block that is a fragment on
 *   purpose says so this way.
 * - `<!-- run: node -->` / `<!-- run: chromium -->`: the block is also run,
 *   with every `ws://` / `wss://` string literal pointed at a local peer.
 * - `<!-- not-checked: why -->`: the block is not a user's code (a patch for
 *   XState's own repository, say); it is left out, and the comment must say why.
 */
export interface DocBlock {
  /** The page, relative to the repository root (`README.md`, `docs/api.md`). */
  file: string;
  /** 1-based line of the block's first code line in the page. */
  line: number;
  lang: 'ts' | 'tsx';
  code: string;
  prelude: string;
  run: string | undefined;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const LANGS: Record<string, 'ts' | 'tsx'> = { ts: 'ts', typescript: 'ts', tsx: 'tsx' };

/** Every `ts`/`tsx` block of one page. */
export function blocksOf(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (open === null) continue;
    const fence = open[2] as string;
    let end = i + 1;
    while (end < lines.length && !(lines[end] as string).trim().startsWith(fence)) end++;
    const lang = LANGS[(open[3] as string).toLowerCase()];
    if (lang !== undefined) {
      const { prelude, run, skip } = commentsBefore(lines, i);
      if (!skip) blocks.push({ file, line: i + 2, lang, code: lines.slice(i + 1, end).join('\n'), prelude, run });
    }
    i = end;
  }
  return blocks;
}

/** The `prelude:` and `run:` comments directly above line `fence` (blank lines between are allowed). */
function commentsBefore(lines: string[], fence: number): { prelude: string; run: string | undefined; skip: boolean } {
  let prelude = '';
  let run: string | undefined;
  let skip = false;
  let i = fence - 1;
  while (i >= 0) {
    while (i >= 0 && (lines[i] as string).trim() === '') i--;
    if (i < 0 || !(lines[i] as string).trim().endsWith('-->')) break;
    let start = i;
    while (start >= 0 && !(lines[start] as string).includes('<!--')) start--;
    if (start < 0) break;
    const body = lines.slice(start, i + 1).join('\n');
    const inner = body.slice(body.indexOf('<!--') + 4, body.lastIndexOf('-->')).trim();
    if (inner.startsWith('prelude:')) prelude = `${inner.slice('prelude:'.length).trim()}\n${prelude}`;
    else if (inner.startsWith('run:')) run = inner.slice('run:'.length).trim();
    else if (inner.startsWith('not-checked:') && inner.slice('not-checked:'.length).trim() !== '') skip = true;
    else break;
    i = start - 1;
  }
  return { prelude, run, skip };
}

/** The pages whose blocks are checked: README.md and every docs/*.md. */
export function docPages(root: URL): string[] {
  const docs = readdirSync(new URL('docs/', root))
    .filter((name) => name.endsWith('.md'))
    .sort();
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

/** Every checked block of the repository. */
export function allBlocks(root: URL): DocBlock[] {
  return docPages(root).flatMap((file) => blocksOf(file, readFileSync(new URL(file, root), 'utf8')));
}

/** A block's code with every `ws://`/`wss://` string literal replaced by `url(n)` for its n-th distinct one. */
export function pointAtLocal(code: string, url: (n: number) => string): string {
  const seen = new Map<string, string>();
  return code.replace(/(['"`])wss?:\/\/[^'"`\s]*\1/g, (literal) => {
    let local = seen.get(literal);
    if (local === undefined) seen.set(literal, (local = JSON.stringify(url(seen.size))));
    return local;
  });
}

/** One type error in a block, placed on the page: `docs/api.md:42:7 TS2304 Cannot find name 'pool'.` */
export interface BlockError {
  where: string;
  message: string;
}

/** The file name a block is written to in the scratch app. */
export function blockFileName(block: DocBlock): string {
  return `${block.file.replace(/[/.]/g, '_')}_L${block.line}.${block.lang}`;
}

/** The block as the scratch app compiles it: prelude, code, and `export {}` so that every block is a module. */
export function blockSource(block: DocBlock): string {
  return `${block.prelude}${block.code}\nexport {};\n`;
}

/** Where line `line` (1-based) of a block's scratch file is on its page. */
export function pageLine(block: DocBlock, line: number): string {
  const preludeLines = block.prelude === '' ? 0 : block.prelude.split('\n').length - 1;
  if (line <= preludeLines) return `${block.file}:${block.line - 1} (the prelude comment above the block, its line ${line})`;
  return `${block.file}:${block.line + line - preludeLines - 1}`;
}
