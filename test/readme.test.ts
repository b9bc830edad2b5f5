import { readFileSync } from 'node:fs';
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
    rows.push(line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
  }
  return rows;
}

/** How the README writes a default value: JavaScript literal syntax. */
function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{ ${Object.entries(value).map(([key, item]) => `'${key}': ${literal(item)}`).join(', ')} }`;
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
    const withoutDefault = ['logger', 'tls', 'workerFactory', 'dialer', 'inspect'];
    const known = new Set([...flattenDefaults().keys(), ...withoutDefault]);
    expect([...rows.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  it('lists every error code once', () => {
    const codes = tableAfter('## Errors').map(([, code = '']) => code.replaceAll('`', ''));
    expect(codes.sort()).toEqual(Object.values(ErrorCodes).sort());
  });

  it('opens with the two set-up commands', () => {
    const quickStart = readme.slice(0, readme.indexOf('## Usage'));
    expect(quickStart).toContain('npm install && npm start');
    expect(quickStart).toContain('npm test');
  });
});
