import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { allBlocks, blockFileName, blockSource, pageLine, pointAtLocal, type DocBlock } from './helpers/doc-blocks.ts';
import { startServer, type TestServer } from './helpers/servers.ts';
import { usePoolFixture } from './helpers/pool-fixture.ts';

// Every `ts`/`tsx` block of README.md and docs/*.md, type-checked the way a
// user's app sees the package: `honeybee-pool/...` resolves through the
// exports map to a fresh build (its own copy, so the tarball test's rebuild of
// dist/ cannot race it), under strict TypeScript. One
// program over all blocks. A fragment declares what it assumes in a
// `<!-- prelude: … -->` comment above its fence; `<!-- run: node -->` blocks
// are also run against a local peer (the React table, `run: chromium`, runs
// in test/react-hooks-browser.test.ts).

const root = new URL('..', import.meta.url);
const ROOT = fileURLToPath(root);
const WORK = join(ROOT, 'test-artifacts', 'doc-blocks');
const PKG = join(WORK, 'pkg');
const APP = join(WORK, 'app');
const run = promisify(execFile);
const { defer } = usePoolFixture();

const blocks = allBlocks(root);

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023', 'DOM', 'DOM.Iterable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    jsx: 'react-jsx',
    strict: true,
    // The package's own declarations are checked with skipLibCheck off by test/package.test.ts.
    skipLibCheck: true,
    types: ['node'],
    noEmit: true
  },
  include: ['blocks']
};

/** The package as npm would install it: package.json and a build of src/ into its dist/. */
async function buildPackage(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(PKG, { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(PKG, 'package.json'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(PKG, 'dist')], { cwd: ROOT }).catch((error: { stdout?: string }) => {
    throw new Error(`the build failed:\n${error.stdout ?? String(error)}`);
  });
  // A user's app: its own package.json, and honeybee-pool in its node_modules.
  mkdirSync(join(APP, 'node_modules'), { recursive: true });
  mkdirSync(join(APP, 'blocks'), { recursive: true });
  writeFileSync(join(APP, 'package.json'), JSON.stringify({ name: 'doc-blocks-app', private: true, type: 'module' }, null, 2));
  writeFileSync(join(APP, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  symlinkSync(PKG, join(APP, 'node_modules', 'honeybee-pool'), 'dir');
  // An optional peer dependency that is not installed here is typed `any`, as TypeScript's shorthand module.
  writeFileSync(
    join(APP, 'blocks', 'optional-peers.d.ts'),
    missingOptionalPeers()
      .map((name) => `declare module '${name}';\n`)
      .join('')
  );
}

/** The optional peer dependencies that do not resolve from the repository. */
function missingOptionalPeers(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependenciesMeta?: Record<string, { optional?: boolean }> };
  const require = createRequire(join(ROOT, 'package.json'));
  return Object.keys(pkg.peerDependenciesMeta ?? {}).filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/** Type-checks every block in one program; the errors placed on their pages. */
function typeCheck(): string[] {
  const byFile = new Map<string, DocBlock>();
  for (const block of blocks) {
    const file = join(APP, 'blocks', blockFileName(block));
    writeFileSync(file, blockSource(block));
    byFile.set(file, block);
  }
  const parsed = ts.parseJsonConfigFileContent(TSCONFIG, ts.sys, APP);
  const program = ts.createProgram([...byFile.keys(), join(APP, 'blocks', 'optional-peers.d.ts')], parsed.options);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
    const block = diagnostic.file === undefined ? undefined : byFile.get(diagnostic.file.fileName);
    if (diagnostic.file === undefined || diagnostic.start === undefined) return `TS${diagnostic.code} ${text}`;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const where = block === undefined ? `${diagnostic.file.fileName}:${line + 1}` : `${pageLine(block, line + 1)}:${character + 1}`;
    return `${where} TS${diagnostic.code} ${text}`;
  });
}

describe('code blocks in README.md and docs/', () => {
  beforeAll(buildPackage, 120_000);

  it('finds the blocks (README, api, browser, custom workers, scale-out…)', () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.filter((block) => block.run === 'node').map((block) => block.file)).toContain('README.md');
    expect(blocks.filter((block) => block.run === 'chromium').map((block) => block.file)).toContain('README.md');
  });

  it('type-check against the built package under strict TypeScript', () => {
    const errors = typeCheck();
    expect(errors, `fix each block at the place named (a fragment declares what it assumes in <!-- prelude: … --> above its fence):\n${errors.join('\n')}`).toEqual([]);
  }, 120_000);

  it.each(blocks.filter((block) => block.run === 'node').map((block) => [`${block.file}:${block.line}`, block] as const))(
    'the runnable block at %s runs against a local peer',
    async (_where, block) => {
      const peer: TestServer = await startServer();
      defer(() => peer.close());
      peer.wss.on('connection', (socket) => {
        socket.send('hello from the peer');
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
      });
      const file = join(APP, 'blocks', `run-${blockFileName(block).replace(/\.tsx?$/, '.ts')}`);
      writeFileSync(file, blockSource({ ...block, code: pointAtLocal(block.code, () => `${peer.url}/`) }));
      const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
      const { stdout } = await run(tsx, [file], { cwd: APP, timeout: 20_000 });
      expect(stdout).toContain('received "hello from the peer"');
    },
    30_000
  );
});
