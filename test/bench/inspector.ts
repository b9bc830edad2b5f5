/**
 * The inspector at scale (`npm run bench -- --only inspector`): for 200,
 * 2 000 and 5 000 peers against a churning server (a frame per second per
 * connection, 1 % of connections closed every second, 1 % of peers refused
 * with 503), the page open in headless Chromium at 1280×800, measured as
 * shared/research/inspector-at-scale.md did: main-thread busy share and long
 * tasks (CDP), keystroke delay, click → view, DOM nodes, WebSocket traffic to
 * the page, and how many not-connected rows the first screen shows. The pool
 * runs in this process (from source); its event-loop delay and CPU are given
 * too. Writes `inspector.md` and `inspector.json` next to the main report.
 *
 * Standalone: `npx tsx test/bench/inspector.ts [--sizes 200,2000] [--window 20] [--out dir]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_FLAGS, haveChromium } from '../helpers/chromium.ts';
import {
  LONG_TASK_PROBE,
  clickToView,
  domNodes,
  drain,
  firstScreen,
  keystrokeDelay,
  measureWindow,
  peerUrls,
  startChurnServer,
  watchPage,
  type PageWindow
} from '../helpers/inspector-scale.ts';
import { createInspector } from '../../src/inspector/server.ts';
import { createPool } from '../../src/node.ts';

export interface InspectorRow {
  peers: number;
  page: PageWindow;
  late?: PageWindow | undefined;
  keystrokeMs: number;
  clickMs: number;
  domNodes: number;
  firstScreen: { rows: number; failing: number; notConnected: number };
  pool: { cpuPct: number; loopP99Ms: number; loopMaxMs: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How late a 10 ms timer fires in this process: the event loop's delay, p99 and max, ms. */
function lagSampler(): { stop(): { p99: number; max: number } } {
  const lags: number[] = [];
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - expected));
    expected = now + 10;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      lags.sort((a, b) => a - b);
      return { p99: lags[Math.floor(lags.length * 0.99)] ?? 0, max: lags.at(-1) ?? 0 };
    }
  };
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(LONG_TASK_PROBE);
  await page.goto(url);
  return page;
}

async function measureSize(browser: Browser, peers: number, windowMs: number, log: (text: string) => void): Promise<InspectorRow> {
  const server = await startChurnServer();
  const inspector = await createInspector();
  const pool = createPool({ id: 'scale', inspect: inspector.inspect });
  inspector.watch(pool);
  const stopDrain = drain(pool);
  try {
    const page = await openPage(browser, inspector.url);
    const watch = await watchPage(page);
    for (const url of peerUrls(server.port, peers)) pool.connect(url);
    const connected = (): number => pool.stats().peers.filter((peer) => peer.state === 'connected').length;
    const deadline = Date.now() + 60_000;
    while (connected() < peers * 0.95 && Date.now() < deadline) await sleep(250);
    await sleep(8000);
    log(`inspector: ${peers} peers connected, measuring ${windowMs / 1000} s`);
    const loop = lagSampler();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const window = await measureWindow(page, watch, windowMs);
    const cpu = process.cpuUsage(cpu0);
    const lags = loop.stop();
    const poolCost = { cpuPct: ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100, loopP99Ms: lags.p99, loopMaxMs: lags.max };
    log('inspector: window done');
    const screen = await firstScreen(page);
    const notConnected = pool.stats().peers.filter((peer) => peer.state !== 'connected').length;
    const nodes = await domNodes(page);
    const target = screen.failingIds[0] ?? ((await page.evaluate(`[...document.querySelectorAll('[data-peer]')][2]?.dataset.peer`)) as string);
    log(`inspector: clicking ${target}`);
    const clickMs = await clickToView(page, target);
    log('inspector: typing');
    const input = (await page.locator('#search').count()) > 0 ? '#search' : '#filter';
    const keystrokeMs = await keystrokeDelay(page, input, `ws://127.0.0.1:${server.port}/peer/012`.slice(0, 28));
    await page.close();
    log('inspector: late page');
    let late: PageWindow | undefined;
    if (peers >= 2000) {
      const second = await openPage(browser, inspector.url);
      const secondWatch = await watchPage(second);
      await sleep(8000);
      late = await measureWindow(second, secondWatch, Math.min(windowMs, 15_000));
      await second.close();
    }
    return { peers, page: window, late, keystrokeMs, clickMs, domNodes: nodes, firstScreen: { rows: screen.rows, failing: screen.failing, notConnected }, pool: poolCost };
  } finally {
    stopDrain();
    await pool.close();
    await inspector.close();
    await server.stop();
  }
}

const pct = (value: number): string => `${value.toFixed(1)} %`;
const ms = (value: number): string => `${Math.round(value)} ms`;

/** The issue's table, one column per size. */
export function inspectorTable(rows: InspectorRow[]): string {
  const line = (name: string, cell: (row: InspectorRow) => string): string => `| ${name} | ${rows.map(cell).join(' | ')} |`;
  return [
    `| | ${rows.map((row) => `${row.peers.toLocaleString('en-US')} peers`).join(' | ')} |`,
    `|---|${rows.map(() => '---').join('|')}|`,
    line('page main thread busy', (row) => `${pct(row.page.busyPct)}${row.late ? ` (${pct(row.late.busyPct)} opened late)` : ''}`),
    line('long tasks per s, longest', (row) => `${row.page.longTasksPerS.toFixed(2)}, ${ms(row.page.longestTaskMs)}${row.late ? ` (late: ${row.late.longTasksPerS.toFixed(2)}, ${ms(row.late.longestTaskMs)})` : ''}`),
    line('delay per keystroke', (row) => ms(row.keystrokeMs)),
    line('click a row → view updated', (row) => ms(row.clickMs)),
    line('DOM nodes', (row) => row.domNodes.toLocaleString('en-US')),
    line('traffic to the page', (row) => `${row.page.trafficKBs.toFixed(1)} KB/s`),
    line('failing rows on the first screen', (row) => `${row.firstScreen.failing} of ${row.firstScreen.notConnected} (${row.firstScreen.rows} rows shown)`),
    line('pool process CPU (pool, inspector, bench driver)', (row) => pct(row.pool.cpuPct)),
    line('pool event-loop delay p99 / max', (row) => `${ms(row.pool.loopP99Ms)} / ${ms(row.pool.loopMaxMs)}`)
  ].join('\n');
}

/** Runs the sizes one after the other and writes inspector.md / inspector.json into `outDir`. */
export async function measureInspector(outDir: string, log: (text: string) => void, sizes = [200, 2000, 5000], windowS = 20): Promise<string> {
  if (!haveChromium) {
    log(`inspector: skipped (${CHROMIUM} not found)`);
    return '';
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const rows: InspectorRow[] = [];
  try {
    for (const peers of sizes) rows.push(await measureSize(browser, peers, windowS * 1000, log));
  } finally {
    await browser.close();
  }
  const table = inspectorTable(rows);
  mkdirSync(outDir, { recursive: true });
  const text = `## Inspector at scale\n\n${new Date().toISOString()}, window ${windowS} s per size, page at 1280×800 in headless Chromium.\n\n${table}\n`;
  writeFileSync(join(outDir, 'inspector.md'), text);
  writeFileSync(join(outDir, 'inspector.json'), `${JSON.stringify(rows, null, 2)}\n`);
  process.stdout.write(`${text}\n`);
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  const sizes = option('sizes')?.split(',').map(Number);
  const outDir = option('out') ?? fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
  await measureInspector(outDir, (text) => process.stderr.write(`${text}\n`), sizes, Number(option('window') ?? 20));
}
