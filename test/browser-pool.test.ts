import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS as FLAGS, chromiumSkipNote as skipNote, haveChromium } from './helpers/chromium.ts';
import { startRestartablePeer, type RestartablePeer } from './helpers/restartable-peer.ts';

// The web build in headless Chromium: the React example app (src/examples/react-peer-table)
// runs a pool of 5 peers against local ws servers, and the test drives it through `window.pool`.
const ROOT = new URL('..', import.meta.url).pathname;
const EXAMPLE = 'src/examples/react-peer-table';
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);

/** A peer that greets with one text and one binary frame, records what it gets, and can restart on its port. */
interface Peer extends RestartablePeer {
  received: Array<string | number[]>;
}

async function startPeer(): Promise<Peer> {
  const received: Peer['received'] = [];
  const peer = await startRestartablePeer((socket, { port }) => {
    socket.on('message', (data, isBinary) => {
      received.push(isBinary ? [...(data as Buffer)] : String(data));
      // Probes are echoed (the probe worker consumes the echo); nothing else is.
      if (!isBinary && String(data) === '["PROBE"]') socket.send(String(data));
    });
    socket.send(`hello from ${port}`);
    socket.send(Buffer.from([port % 256, 1, 2]));
  });
  return Object.assign(peer, { received });
}

/** Serves the page and the example's bundle on 127.0.0.1. */
async function servePage(bundle: string): Promise<{ server: Server; url: string }> {
  const html =
    '<!doctype html><meta charset="utf-8"><title>honeybee peers</title>' +
    '<style>body{font:14px system-ui;margin:16px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}' +
    '.connected{color:#070}.backoff,.dialing{color:#a60}.stopped{color:#888}</style>' +
    '<div id="app"></div><script type="module" src="/app.js"></script>';
  const server = createServer((request, response) => {
    const isScript = request.url === '/app.js';
    response.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html' });
    response.end(isScript ? bundle : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

async function buildExample(): Promise<string> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [`${EXAMPLE}/main.tsx`],
    tsconfig: `${EXAMPLE}/tsconfig.json`,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    minify: true,
    write: false,
    logLevel: 'silent'
  });
  return result.outputFiles[0]?.text ?? '';
}

type Row = { id: string; state: string | null };
const rows = (page: Page): Promise<Row[]> =>
  page.$$eval('tr[data-peer]', (trs) => trs.map((tr) => ({ id: tr.getAttribute('data-peer') ?? '', state: tr.getAttribute('data-state') })));
const stats = (page: Page) =>
  page.evaluate('window.pool.stats()') as Promise<{
    peerCount: number;
    totalSent: number;
    totalReceived: number;
    peers: Array<{ id: string; state: string; received: number; sent: number; bytesOut: number; restarts: number }>;
  }>;

describe.skipIf(!haveChromium)(`a pool in Chromium: the web build and the React example${skipNote}`, () => {
  let browser: Browser;
  let page: Page;
  let peers: Peer[];
  let site: { server: Server; url: string };
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const [launched, bundle, started] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: FLAGS }),
      buildExample(),
      Promise.all(Array.from({ length: 5 }, startPeer)),
      // The example type-checks under its own tsconfig (DOM lib, JSX, no Node types).
      promisify(execFile)(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${EXAMPLE}/tsconfig.json`, '--noEmit'], { cwd: ROOT })
    ]);
    [browser, peers] = [launched, started];
    site = await servePage(bundle);
    page = await browser.newPage({ viewport: { width: 900, height: 420 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${site.url}?peers=${peers.map((peer) => peer.url).join(',')}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.server.close(resolve));
    await Promise.all((peers ?? []).map((peer) => peer.stop()));
  });

  it('connects 5 peers and shows them connected in the React table', async () => {
    await expect.poll(() => rows(page), { timeout: 10_000 }).toEqual(peers.map((peer) => ({ id: peer.url, state: 'connected' })));
    await expect.poll(() => page.textContent('caption')).toBe('5 workers, 5 connected');
  });

  it('receives text and binary frames through the inbox', async () => {
    const messages = await page.evaluate(`(async () => {
      const out = [];
      for await (const batch of window.pool.inbox.batches()) {
        for (const m of batch) out.push({ id: m.id, data: typeof m.data === 'string' ? m.data : Array.from(m.data) });
        if (out.length >= 10) return out;
      }
    })()`);
    const expected = peers.flatMap((peer) => [
      { id: peer.url, data: `hello from ${peer.port}` },
      { id: peer.url, data: [peer.port % 256, 1, 2] }
    ]);
    expect(messages).toEqual(expect.arrayContaining(expected));
    expect(messages).toHaveLength(10);
  });

  it('sends text and binary, counted in UTF-8 bytes', async () => {
    const first = peers[0] as Peer;
    await page.evaluate(`window.pool.send(${JSON.stringify(first.url)}, 'héllo'); window.pool.send(${JSON.stringify(first.url)}, new Uint8Array([7, 8, 9]))`);
    await expect.poll(() => first.received.filter((m) => m !== '["PROBE"]')).toEqual(['héllo', [7, 8, 9]]);
    const peer = (await stats(page)).peers.find((p) => p.id === first.url);
    expect(peer).toMatchObject({ sent: 2, bytesOut: 9, received: 2 });
  });

  it('reconnects a peer whose server restarted, and the table follows', async () => {
    const second = peers[1] as Peer;
    await second.stop();
    await expect.poll(() => rows(page).then((r) => r.find((row) => row.id === second.url)?.state)).not.toBe('connected');
    await second.start();
    await expect.poll(() => rows(page).then((r) => r.find((row) => row.id === second.url)?.state), { timeout: 10_000 }).toBe('connected');
    expect((await stats(page)).peers.find((p) => p.id === second.url)?.restarts).toBe(1);
  });

  it('removes a peer: its row goes, its server sees the close, stats() has 4 peers', async () => {
    const third = peers[2] as Peer;
    await page.evaluate(`window.pool.remove(${JSON.stringify(third.url)})`);
    await expect.poll(() => rows(page).then((r) => r.map((row) => row.id))).toEqual(peers.filter((p) => p !== third).map((p) => p.url));
    const after = await stats(page);
    expect(after.peerCount).toBe(4);
    expect(after.totalSent).toBe(2);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('react-peer-table.png', ARTIFACTS).pathname, timeout: 10_000 });
  });

  it('closes: every worker ends, the table empties, and the page raised no error', async () => {
    await page.evaluate('window.pool.close()');
    await expect.poll(() => page.textContent('caption')).toBe('0 workers, 0 connected');
    expect(await stats(page)).toMatchObject({ peerCount: 0 });
    expect(pageErrors).toEqual([]);
  });

  it('enforces readLimit in the page: a larger message ends the connection with 1009, cause read_limit', async () => {
    const first = peers[0] as Peer;
    const ended = await page.evaluate(`new Promise((resolve) => {
      const pool = window.createPool({ readLimit: 10, retry: { initialDelay: 60000, maxDelay: 60000 } });
      pool.actor.on('disconnected', (event) => void pool.close().then(() => resolve({ code: event.code, cause: event.cause, depth: pool.inbox.depth })));
      pool.connect(${JSON.stringify(first.url)});
    })`);
    expect(ended).toEqual({ code: 1009, cause: 'read_limit', depth: 0 });
  });

  it('warns when a pool in a page is asked for more than the 255 WebSockets Chromium allows', async () => {
    const result = (await page.evaluate(`(async () => {
      const warnings = [];
      const quiet = () => {};
      const logger = { debug: quiet, info: quiet, error: quiet, child: () => logger,
        warn: (fields, message) => { if (String(message).includes('WebSockets')) warnings.push(fields); } };
      const pool = window.createPool({ logger, retry: { initialDelay: 60000, maxDelay: 60000 } });
      for (let i = 0; i < 255; i += 1) pool.connect('ws://127.0.0.1:9/p' + i);
      const at255 = warnings.length;
      pool.connect('ws://127.0.0.1:9/p255');
      await pool.close();
      return { at255, warnings };
    })()`)) as { at255: number; warnings: unknown[] };
    expect(result.at255).toBe(0);
    expect(result.warnings).toEqual([{ peers: 256, socketLimit: 255, transport: 'web-socket' }]);
    expect(pageErrors).toEqual([]);
  });
});
