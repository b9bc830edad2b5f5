import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadInit } from './protocol.ts';

/**
 * Starts one shard thread. From the compiled package this runs `thread.js`
 * next to this file. From the TypeScript sources (tests, `npm start` under
 * tsx) Node cannot load `thread.ts` by itself, so the thread first loads
 * tsx's loader API and imports the source through it.
 */
export function spawnThread(init: ThreadInit): Worker {
  const here = import.meta.url;
  return spawnWorker(new URL(here.endsWith('.ts') ? './thread.ts' : './thread.js', here), init);
}

/** Starts a worker thread on `entry`; a `.ts` entry is imported through tsx (sources only). */
export function spawnWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const tsxApi = tsxLoaderApi(import.meta.url);
  const code = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}));`;
  return new Worker(code, { eval: true, workerData });
}

/** The file URL of tsx's ESM loader API, resolved from `from` (tsx is a devDependency: sources only). */
function tsxLoaderApi(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const exportsMap = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  const entry = exportsMap['./esm/api']?.import.default;
  if (entry === undefined) throw new Error(`tsx at ${dirname(manifest)} has no ./esm/api export; run the compiled package instead`);
  return pathToFileURL(join(dirname(manifest), entry)).href;
}
