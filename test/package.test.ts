import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers/servers.ts';

// The package as a user gets it: `npm pack` (which runs `prepare`, the build),
// the tarball installed into a scratch app with only honeybee-pool, @types/node
// and vitest 3 (the oldest vitest the peer range allows), compiled by strict
// TypeScript with `skipLibCheck: false` under `module: nodenext` and under
// `moduleResolution: bundler`, then run against a local ws server; the
// testkit's vitest adapter runs once under that vitest 3.

const execFileAsync = promisify(execFile);

/** Runs a command; on failure the error carries its stdout and stderr (tsc reports on stdout). */
async function run(file: string, args: string[], options: Parameters<typeof execFileAsync>[2] & { cwd: string }): Promise<{ stdout: string }> {
  try {
    const { stdout } = await execFileAsync(file, args, { maxBuffer: 16 * 1024 * 1024, ...options, encoding: 'utf8' });
    return { stdout: String(stdout) };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${String(stdout)}\n${String(stderr)}`);
  }
}
const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  peerDependencies: Record<string, string>;
};

const APP = `import { createPool, NotReadyError, type PoolEvent } from 'honeybee-pool';
import { workerMachine } from 'honeybee-pool/machines';
import { probeWorker } from 'honeybee-pool/examples';
import { CONTRACT_CHECKS } from 'honeybee-pool/testkit';
import { createInspector } from 'honeybee-pool/inspector';

const url = process.argv[2] ?? '';
const steady = workerMachine.provide({ delays: { dialDelay: 100 } });
const probing = probeWorker({ message: '["PING"]' });
await using pool = createPool({ id: 'scratch', reconnectDelay: 50, closeTimeout: 500 });
const id = pool.connect(url);
await pool.ready(id, { timeout: 5000 });
pool.send(id, 'ping');
let data: string | Uint8Array = '';
for await (const message of pool.inbox) {
  data = message.data;
  break;
}
const kinds: PoolEvent['kind'][] = pool.events.drain().map((event) => event.kind);
const checks: number = CONTRACT_CHECKS.length;
// The inspector serves its page from the installed package (no visualizations/ folder there).
const inspector = await createInspector();
const page = await fetch(inspector.url);
const inspectorPage = page.status === 200 && (await page.text()).includes('<title>honeybee inspector</title>');
await inspector.close();
console.log(JSON.stringify({ id, data, kinds, checks, machine: steady.id, example: probing.id, notReady: NotReadyError.name, inspectorPage }));
`;

const CONTRACT_TEST = `import { workerFromMachine } from 'honeybee-pool';
import { workerMachine } from 'honeybee-pool/machines';
import { describeWorkerContract } from 'honeybee-pool/testkit/vitest';

describeWorkerContract('the default worker, under vitest 3', workerFromMachine(workerMachine));
`;

const COMMON = { strict: true, skipLibCheck: false, target: 'ES2022', lib: ['ES2023', 'ESNext.Disposable'], types: ['node'], noEmit: false };

function tsconfig(outDir: string, module: Record<string, string>, include: string[]): string {
  return JSON.stringify({ compilerOptions: { ...COMMON, ...module, outDir }, include });
}

let app = '';
let packDir = '';
let server: TestServer;
let files: string[] = [];

beforeAll(async () => {
  packDir = mkdtempSync(join(tmpdir(), 'honeybee-pack-'));
  app = mkdtempSync(join(tmpdir(), 'honeybee-app-'));
  // `npm pack` runs `prepare` (the build), so the tarball holds a fresh dist/.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: root });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed?.files.map((file) => file.path) ?? [];
  const tarball = join(packDir, packed?.filename ?? '');

  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  writeFileSync(join(app, 'app.ts'), APP);
  writeFileSync(join(app, 'contract.test.ts'), CONTRACT_TEST);
  // The vitest adapter is type-checked against vitest 3's types once (nodenext); checking those twice only costs time.
  writeFileSync(join(app, 'tsconfig.nodenext.json'), tsconfig('out-nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }, ['app.ts', 'contract.test.ts']));
  writeFileSync(join(app, 'tsconfig.bundler.json'), tsconfig('out-bundler', { module: 'esnext', moduleResolution: 'bundler' }, ['app.ts']));
  await run('npm', ['install', tarball, '@types/node@^20', 'vitest@^3', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
  server = await startServer();
  server.wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`pong:${String(data)}`)));
}, 240_000);

afterAll(async () => {
  await server?.close();
  for (const dir of [app, packDir]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe(`the ${pkg.name} tarball`, () => {
  it('ships the built entries, LICENSE, CHANGELOG, docs/ and the pictures, and no demo, diagram code or source maps', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'CHANGELOG.md',
        'dist/src/node.js',
        'dist/src/node.d.ts',
        'dist/src/web.js',
        'dist/src/web.d.ts',
        'dist/src/inspector/index.js',
        'dist/machines/index.js',
        'dist/machines/examples/index.js',
        'dist/src/testkit/vitest.js'
      ])
    );
    expect(files.filter((file) => /^dist\/src\/(demo|diagrams)\/|\.map$|\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    // docs/ and the pictures ship too, so the README's links work from node_modules.
    expect(files).toEqual(expect.arrayContaining(['docs/api.md', 'docs/browser.md', 'visualizations/worker.svg']));
    expect(files.filter((file) => !/^(dist\/|docs\/[\w-]+\.md$|visualizations\/[\w-]+\.svg$|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(file))).toEqual([]);
  });

  it.each(['nodenext', 'bundler'])(
    'compiles in a strict app (skipLibCheck off) with %s resolution, then runs',
    async (mode) => {
      await run('node', [tsc, '-p', `tsconfig.${mode}.json`], { cwd: app });
      const { stdout } = await run('node', [join(`out-${mode}`, 'app.js'), server.url], { cwd: app, timeout: 20_000 });
      expect(JSON.parse(stdout)).toEqual({
        id: server.url,
        data: 'pong:ping',
        kinds: ['connected'],
        checks: expect.any(Number),
        machine: 'worker',
        example: 'worker',
        notReady: 'NotReadyError',
        inspectorPage: true
      });
    },
    60_000
  );

  it(`runs describeWorkerContract under vitest 3 (peer range ${pkg.peerDependencies.vitest ?? 'none'})`, async () => {
    const version = JSON.parse(readFileSync(join(app, 'node_modules', 'vitest', 'package.json'), 'utf8')) as { version: string };
    expect(version.version).toMatch(/^3\./);
    const { stdout } = await run('node', [join('node_modules', 'vitest', 'vitest.mjs'), 'run', 'contract.test.ts'], {
      cwd: app,
      timeout: 60_000,
      env: { ...process.env, CI: '1', NO_COLOR: '1' }
    });
    expect(stdout).toMatch(/Tests\s+\d+ passed/);
    expect(stdout).not.toMatch(/failed/);
  }, 90_000);
});
