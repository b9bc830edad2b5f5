import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { build, type Plugin } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumSkipNote, haveChromium } from './helpers/chromium.ts';
import { allBlocks, pointAtLocal } from './helpers/doc-blocks.ts';
import { startRestartablePeer, type RestartablePeer } from './helpers/restartable-peer.ts';

// The README's React block (`<!-- run: chromium -->`), as written, in headless
// Chromium: bundled with esbuild (honeybee-pool from src/, React from
// node_modules), its peer URLs pointed at two local peers. The table must show
// both peers connected, follow a lifecycle change at once (a peer stopped and
// restarted), and show message counters moving at the block's throttle.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);
const block = allBlocks(new URL('..', import.meta.url)).find((candidate) => candidate.run === 'chromium');

/** `honeybee-pool` and `honeybee-pool/react` as a bundler resolves them for the browser, from source. */
const fromSource: Plugin = {
  name: 'honeybee-from-source',
  setup(plugin) {
    plugin.onResolve({ filter: /^honeybee-pool(\/react)?$/ }, (args) => ({
      path: `${ROOT}src/${args.path === 'honeybee-pool' ? 'web.ts' : 'react/index.ts'}`
    }));
  }
};

async function bundle(code: string): Promise<string> {
  const result = await build({
    stdin: { contents: code, loader: 'tsx', resolveDir: ROOT, sourcefile: 'README-react-block.tsx' },
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [fromSource],
    write: false,
    logLevel: 'silent'
  });
  return result.outputFiles[0]?.text ?? '';
}

async function servePage(script: string): Promise<{ server: Server; url: string }> {
  const html =
    '<!doctype html><meta charset="utf-8"><title>README peer table</title>' +
    '<style>body{font:14px system-ui;margin:16px}td{border:1px solid #ccc;padding:4px 8px}</style>' +
    '<div id="app"></div><script type="module" src="/app.js"></script>';
  const server = createServer((request, response) => {
    const isScript = request.url === '/app.js';
    response.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html' });
    response.end(isScript ? script : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

type Row = { id: string; state: string; received: number };
const rows = (page: Page): Promise<Row[]> =>
  page.$$eval('tbody tr', (trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '');
      return { id: cells[0] ?? '', state: cells[1] ?? '', received: Number(cells[2]) };
    })
  );

describe.skipIf(!haveChromium)(`the README's React table in Chromium (honeybee-pool/react)${chromiumSkipNote}`, () => {
  let browser: Browser;
  let page: Page;
  let site: { server: Server; url: string };
  const peers: RestartablePeer[] = [];
  const sockets = new Map<RestartablePeer, Set<import('ws').WebSocket>>();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    expect(block, 'README.md has a block marked <!-- run: chromium -->').toBeDefined();
    for (let i = 0; i < 2; i++) {
      const open = new Set<import('ws').WebSocket>();
      const peer = await startRestartablePeer((socket, self) => {
        open.add(socket);
        socket.on('close', () => open.delete(socket));
        socket.send(`hello from ${self.port}`);
      });
      sockets.set(peer, open);
      peers.push(peer);
    }
    const code = pointAtLocal(block?.code ?? '', (n) => `${peers[n]?.url ?? 'ws://127.0.0.1:1'}/`);
    site = await servePage(await bundle(code));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 900, height: 300 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(site.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.server.close(() => resolve()) : resolve()));
    for (const peer of peers) await peer.stop();
  });

  it('shows both peers connected, with the greeting counted', async () => {
    await expect.poll(() => rows(page), { timeout: 10_000 }).toEqual(peers.map((peer) => ({ id: `${peer.url}`, state: 'connected', received: 1 })));
    expect(await page.locator('caption').textContent()).toBe('2 connected, 2 received');
  });

  it('re-renders counters at the throttle as messages arrive, without any lifecycle event', async () => {
    const [first] = peers;
    for (const socket of sockets.get(first as RestartablePeer) ?? []) for (let i = 0; i < 5; i++) socket.send(`m${i}`);
    await expect.poll(async () => (await rows(page))[0]?.received, { timeout: 5000 }).toBe(6);
    expect(await page.locator('caption').textContent()).toBe('2 connected, 7 received');
  });

  it('follows a lifecycle change: a stopped peer leaves connected, and comes back when restarted', async () => {
    const second = peers[1] as RestartablePeer;
    await second.stop();
    await expect.poll(async () => (await rows(page))[1]?.state, { timeout: 5000 }).not.toBe('connected');
    expect(await page.locator('caption').textContent()).toMatch(/^1 connected/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('readme-react-table-down.png', ARTIFACTS).pathname });
    await second.start();
    await expect.poll(async () => (await rows(page))[1]?.state, { timeout: 15_000 }).toBe('connected');
    await page.screenshot({ path: new URL('readme-react-table.png', ARTIFACTS).pathname });
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
