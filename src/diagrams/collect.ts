import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { toMermaid } from './mermaid.ts';
import { machineToModel } from './model.ts';
import { publicView } from './public-view.ts';
import { detachedStates, splitModel } from './split.ts';
import { toSvg } from './svg.ts';

/** The diagram files generated for one machine. */
export interface GeneratedDiagram {
  /** The file stem in `visualizations/`: `worker` → `worker.mmd` and `worker.svg`. */
  readonly name: string;
  /** Where the machine is defined, relative to the repository root. */
  readonly source: string;
  readonly mermaid: string;
  /** The Graphviz drawing; none for a part of a chart split for Mermaid (the whole machine's SVG shows it). */
  readonly svg?: string;
}

/** Where `machines/` lives next to this file's `src/`. */
export const MACHINES_DIR = new URL('../../machines/', import.meta.url);

function isMachine(value: unknown): value is AnyStateMachine {
  const candidate = value as { root?: { states?: unknown }; provide?: unknown; config?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.provide === 'function' && typeof candidate.root?.states === 'object';
}

function kebab(text: string): string {
  return text.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** The `.ts` modules of one folder, sorted, without the barrel file and declarations. */
function modulesIn(dir: URL): URL[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && entry.name !== 'index.ts')
    .map((entry) => entry.name)
    .sort()
    .map((name) => new URL(name, dir));
}

/** Names one machine: the file stem without `-machine`, plus the export name when a file has several. */
function diagramName(file: URL, prefix: string, exportName: string, several: boolean): string {
  const stem = (file.pathname.split('/').pop() ?? '').replace(/\.ts$/, '').replace(/-machine$/, '');
  const suffix = several ? `-${kebab(exportName.replace(/Machine$/, ''))}` : '';
  return `${prefix}${stem}${suffix}`;
}

async function machinesOf(file: URL, seen: Set<unknown>): Promise<Array<[string, AnyStateMachine]>> {
  const module = (await import(file.href)) as Record<string, unknown>;
  const found: Array<[string, AnyStateMachine]> = [];
  for (const name of Object.keys(module).sort()) {
    const value = module[name];
    // A chart is drawn once, under its first file: a machine re-exported by a sibling
    // module, or built with `.provide(...)` (which swaps implementations, not states).
    if (!isMachine(value) || seen.has(value.config)) continue;
    seen.add(value.config);
    found.push([name, value]);
  }
  return found;
}

/**
 * Finds every machine exported from `machines/*.ts` and `machines/examples/*.ts`
 * (the examples are skipped when that folder does not exist) and renders each
 * as Mermaid and SVG, plus its public view (`<name>-public`) when its states
 * carry the public state names as tags. The result is sorted and contains no timestamps, so the
 * same definitions always give the same bytes.
 *
 * @example
 * ```ts
 * for (const diagram of await collectDiagrams()) console.log(diagram.name);
 * ```
 */
export async function collectDiagrams(machinesDir: URL = MACHINES_DIR): Promise<GeneratedDiagram[]> {
  const root = new URL('..', machinesDir);
  const folders: Array<[URL, string]> = [
    [machinesDir, ''],
    [new URL('examples/', machinesDir), 'example-']
  ];
  const seen = new Set<unknown>();
  const diagrams: GeneratedDiagram[] = [];
  for (const [dir, prefix] of folders) {
    for (const file of modulesIn(dir)) {
      const machines = await machinesOf(file, seen);
      for (const [exportName, machine] of machines) {
        const name = diagramName(file, prefix, exportName, machines.length > 1);
        const source = fileURLToPath(file).slice(fileURLToPath(root).length);
        const folded = publicView(machine, `${name}-public`);
        for (const model of [machineToModel(machine, name), ...(folded === undefined ? [] : [folded])]) {
          // Graphviz draws the whole machine; Mermaid gets the states it cannot lay out in charts of their own.
          let outer = model;
          for (const id of detachedStates(model)) {
            const split = splitModel(outer, id);
            outer = split.outer;
            diagrams.push({ name: split.inner.name, source, mermaid: toMermaid(split.inner) });
          }
          diagrams.push({ name: model.name, source, mermaid: toMermaid(outer), svg: await toSvg(model) });
        }
      }
    }
  }
  return diagrams.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
