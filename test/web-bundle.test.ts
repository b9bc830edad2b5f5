import { build, type Metafile } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

// The web entry bundled as a browser app would bundle it: nothing from Node may be reachable.
const root = new URL('..', import.meta.url).pathname;
// node:* builtins, the ws and pino packages, and Buffer polyfills.
const NODE_INPUT = /(^|\/)(node:|node_modules\/(ws|pino|pino-[^/]+|buffer|safe-buffer|sonic-boom|thread-stream)\/)/;
// 30 KiB until issue 27's true inbox bound (a link holds what a paused socket had read: +0.15 KiB
// gzip). The scheduler index of xstate-internals.ts is a Node runtime hook, so the web entry carries
// neither it nor its canary (29.9 KiB measured on 2026-12-07).
const GOAL_BYTES = 30.5 * 1024;

async function bundle(entry: string): Promise<{ code: Uint8Array; metafile: Metafile }> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent'
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild wrote no output');
  return { code: output.contents, metafile: result.metafile };
}

describe('the web entry, bundled for the browser by esbuild', () => {
  it('has no Node input (node:*, ws, pino, buffer), uses no Buffer, and stays under 30.5 KiB gzip', async () => {
    const { code, metafile } = await bundle('src/web.ts');
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('src/web.ts');
    expect(inputs).toContain('src/transports/web-socket.ts');
    expect(inputs.filter((input) => NODE_INPUT.test(input))).toEqual([]);
    expect(inputs.filter((input) => input.startsWith('src/transports/ws'))).toEqual([]);
    const text = new TextDecoder().decode(code);
    expect(text).not.toMatch(/\bBuffer\s*[.(]/);
    expect(text).not.toMatch(/\brequire\s*\(/);
    const gzip = gzipSync(code).length;
    console.log(`honeybee-pool/web bundle: ${code.length} bytes minified, ${gzip} bytes gzip (${(gzip / 1024).toFixed(1)} KiB; pool + worker + xstate)`);
    expect(gzip).toBeLessThan(GOAL_BYTES);
  });

  it('would fail on a Node input: the same check finds ws and pino in the Node entry', async () => {
    // esbuild takes ws's and pino's browser stubs without complaint: only the input list tells.
    const { metafile } = await bundle('src/node.ts');
    const found = Object.keys(metafile.inputs).filter((input) => NODE_INPUT.test(input));
    expect(found.some((input) => input.includes('node_modules/ws/'))).toBe(true);
    expect(found.some((input) => input.includes('node_modules/pino/'))).toBe(true);
  });
});
