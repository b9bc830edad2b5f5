/**
 * `npm run test:xstate-latest [-- vitest args]`: runs the suite against the
 * newest XState 5.x, in a scratch copy of this checkout, so a new XState
 * release is tried before the package's range (`xstate` in package.json,
 * bounded to the versions the suite has run on) is widened to admit it.
 *
 * The copy gets this checkout's files and `node_modules`, then
 * `npm install xstate@5` (the registry's newest 5.x, prereleases excluded),
 * then `npm test` with any arguments given (test files, say). The scratch
 * directory is removed afterwards unless KEEP_SCRATCH=1. Exits with the
 * suite's code.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SKIP = new Set(['.git', 'dist', 'test-artifacts', 'coverage']);
const scratch = mkdtempSync(join(tmpdir(), 'honeybee-xstate-latest-'));

function run(command: string, args: string[]): number {
  const result = spawnSync(command, args, { cwd: scratch, stdio: 'inherit' });
  return result.status ?? 1;
}

let code = 1;
try {
  cpSync(ROOT, scratch, {
    recursive: true,
    filter: (source) => {
      const top = relative(ROOT, source).split(sep)[0] ?? '';
      return !SKIP.has(top);
    }
  });
  const locked = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'xstate', 'package.json'), 'utf8')) as { version: string };
  if (run('npm', ['install', '--no-audit', '--no-fund', 'xstate@5']) !== 0) throw new Error('npm install xstate@5 failed');
  const latest = JSON.parse(readFileSync(join(scratch, 'node_modules', 'xstate', 'package.json'), 'utf8')) as { version: string };
  process.stdout.write(`xstate ${latest.version} (locked here: ${locked.version}), in ${scratch}\n`);
  code = run('npm', ['test', '--', ...process.argv.slice(2)]);
  process.stdout.write(`xstate ${latest.version}: the suite ${code === 0 ? 'passed' : 'FAILED'}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  if (process.env.KEEP_SCRATCH !== '1') rmSync(scratch, { recursive: true, force: true });
}
process.exit(code);
