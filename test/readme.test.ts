import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/options.ts';
import { VERSION } from '../src/version.ts';
import { ErrorCodes } from '../src/errors.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The rows of the first Markdown table after `heading`, as arrays of trimmed cells. */
function tableAfter(heading: string): string[][] {
  const start = readme.indexOf(heading);
  expect(start, `README has a "${heading}" section`).toBeGreaterThan(-1);
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim())
    );
  }
  return rows;
}

/** How the README writes a default value: JavaScript literal syntax. */
function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{ ${Object.entries(value)
      .map(([key, item]) => `'${key}': ${literal(item)}`)
      .join(', ')} }`;
  }
  return String(value);
}

function flattenDefaults(): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  for (const [key, value] of Object.entries(DEFAULTS)) {
    if (key === 'retry') for (const [inner, item] of Object.entries(value)) flat.set(`retry.${inner}`, item);
    else flat.set(key, value);
  }
  return flat;
}

describe('README', () => {
  const rows = new Map(tableAfter('## Options').map(([name = '', value = '']) => [name.replaceAll('`', ''), value]));

  it.each([...flattenDefaults()])('documents the default of `%s` exactly as DEFAULTS has it', (name, value) => {
    const cell = rows.get(name)?.replaceAll('`', '').replace('<version>', VERSION);
    expect(cell).toBe(literal(value));
  });

  it('documents no option that the library does not have', () => {
    const withoutDefault = ['logger', 'tls', 'workerFactory', 'transport', 'signal', 'inspect'];
    const known = new Set([...flattenDefaults().keys(), ...withoutDefault]);
    expect([...rows.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  it('lists every error code once', () => {
    const codes = tableAfter('## Errors').map(([, code = '']) => code.replaceAll('`', ''));
    expect(codes.sort()).toEqual(Object.values(ErrorCodes).sort());
  });

  it('opens with the install line and the two set-up commands', () => {
    const quickStart = readme.slice(0, readme.indexOf('## Lifecycle'));
    expect(quickStart).toContain('npm install honeybee-pool');
    expect(quickStart).toContain('npm install && npm start');
    expect(quickStart).toContain('npm test');
  });

  it("is titled with the package's name, says why and when not first, then shows a user's app before the clone's demo", () => {
    expect(readme.split('\n')[0]).toBe('# honeybee-pool');
    expect(readme.indexOf('**Why, and when not.**')).toBeLessThan(readme.indexOf('## Install'));
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Lifecycle'));
    const app = quickStart.indexOf("import { createPool } from 'honeybee-pool';");
    expect(app).toBeGreaterThan(-1);
    expect(app).toBeLessThan(quickStart.indexOf('npm install && npm start'));
    // The app's peer is a defined URL, and npm test says what it needs and how long it takes.
    expect(quickStart).toMatch(/const url = 'wss?:\/\/[^']+';/);
    expect(quickStart).toMatch(/Chromium[\s\S]*nats-server[\s\S]*\.ci\/run/);
    expect(quickStart).toMatch(/about \d+ minutes/);
  });

  it('says the inbox has one consumer', () => {
    expect(readme).toMatch(/inbox has \*\*one consumer\*\*/);
  });

  it('fits on a screen: about 320 lines (room for a few more), the long sections in docs/', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(340);
  });
});

describe('links in README.md and docs/', () => {
  const root = new URL('../', import.meta.url);
  const pages = [
    'README.md',
    ...readdirSync(new URL('docs/', root))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`)
  ];

  /** Whether the npm package ships this file, so that the link works from node_modules too. */
  function shipped(file: URL): boolean {
    const { files } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { files: string[] };
    const path = file.pathname.slice(root.pathname.length);
    if (['README.md', 'LICENSE', 'package.json'].includes(path)) return true;
    return files.some((entry) => !entry.startsWith('!') && (path === entry || path.startsWith(`${entry}/`) || matchesGlob(path, entry)));
  }

  /** A `dir/*.ext` entry of package.json `files`. */
  function matchesGlob(path: string, entry: string): boolean {
    const star = entry.indexOf('*');
    return star > -1 && path.startsWith(entry.slice(0, star)) && path.endsWith(entry.slice(star + 1)) && !path.slice(star).includes('/');
  }

  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
  function anchors(markdown: string): Set<string> {
    const headings = markdown.split('\n').filter((line) => /^#{1,6} /.test(line));
    return new Set(
      headings.map((line) =>
        line
          .replace(/^#+ /, '')
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replaceAll(' ', '-')
      )
    );
  }

  it.each(pages)('%s links only to files and headings that exist', (page) => {
    const text = readFileSync(new URL(page, root), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    const broken: string[] = [];
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path = '', hash] = target.split('#');
      const file = path === '' ? new URL(page, root) : new URL(path, new URL(page, root));
      if (!existsSync(file)) broken.push(target);
      else if (!shipped(file)) broken.push(`${target} (not in the npm package: see "files" in package.json)`);
      else if (hash !== undefined && file.pathname.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(hash)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });
});
