import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One edit of XState's built files: every `find` becomes `replace` (it must occur). */
export interface XStatePatch {
  find: string | RegExp;
  replace: string;
}

/**
 * Behaviour changes a later XState could make while keeping every member the
 * pool's shape checks look at (both were seen on XState's `next` branch):
 */
export const XSTATE_CHANGES = {
  /** A child's done event is handed to its parent directly, not through the system's relay. */
  doneDeliveredDirectly: [{ find: 'this.system._relay(this, this._parent, this._doneEvent);', replace: 'this._parent._send(this._doneEvent);' }],
  /** The system snapshot gains a field, and session ids are booked from it. */
  snapshotGainsAField: [
    {
      find: /_scheduledEvents: \(options\?\.snapshot && options\.snapshot\.scheduler\) \?\? \{\}/g,
      replace: '$&,\n      _nextActorId: 0'
    },
    { find: '_bookId: () => `x:${idCounter++}`', replace: '_bookId: () => `x:${system._snapshot._nextActorId++}`' }
  ]
} satisfies Record<string, XStatePatch[]>;

/**
 * A scratch copy of the installed `xstate` package with `patches` applied to
 * its built files (the chunks that hold the actor and the actor system), plus
 * a module hook that makes `import 'xstate'` load it. Returns the directory
 * and a `dispose()` that removes it.
 */
export function patchedXState(patches: readonly XStatePatch[]): { dir: string; hook: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'honeybee-xstate-'));
  const copy = join(dir, 'node_modules', 'xstate');
  cpSync(join(ROOT, 'node_modules', 'xstate'), copy, { recursive: true });
  const dist = join(copy, 'dist');
  const chunks = readdirSync(dist).filter((name) => /^raise-.*\.js$/.test(name));
  for (const patch of patches) {
    let applied = 0;
    for (const name of chunks) {
      const file = join(dist, name);
      const text = readFileSync(file, 'utf8');
      const next = typeof patch.find === 'string' ? text.split(patch.find).join(patch.replace) : text.replace(patch.find, patch.replace);
      if (next !== text) applied += 1;
      writeFileSync(file, next);
    }
    if (applied !== chunks.length) throw new Error(`patch ${String(patch.find)} applied to ${applied} of ${chunks.length} XState chunks`);
  }
  // Resolves `xstate` (and its subpaths) as if imported from the scratch directory.
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `const from = ${JSON.stringify(pathToFileURL(join(dir, 'entry.mjs')).href)};
export async function resolve(specifier, context, next) {
  if (specifier === 'xstate' || specifier.startsWith('xstate/')) return next(specifier, { ...context, parentURL: from });
  return next(specifier, context);
}
`
  );
  const hook = join(dir, 'register.mjs');
  writeFileSync(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  return { dir, hook, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `script` (a TypeScript file) in a fresh Node process whose `xstate` is the patched copy; resolves with its last JSON line. */
export function runAgainst<T>(hook: string, script: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--import', hook, script], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const line = stdout
        .trim()
        .split('\n')
        .filter((text) => text.startsWith('{'))
        .pop();
      if (line === undefined) {
        reject(new Error(`${script} printed no result${error ? ` (${error.message})` : ''}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(line) as T);
    });
  });
}
