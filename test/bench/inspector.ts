/**
 * The inspector at scale (`npm run bench -- --only inspector`): for 200,
 * 2 000 and 5 000 peers against a churning server (a frame per second per
 * connection, 1 % of connections closed every second, 1 % of peers refused
 * with 503), the page open in headless Chromium at 1280×800, measured as
 * shared/research/inspector-at-scale.md did: main-thread busy share and long
 * tasks (CDP), keystroke delay, click → view, DOM nodes, WebSocket traffic to
 * the page, and how many not-connected rows the first screen shows. The pool
 * and the inspector run in their own process (from source); its event-loop
 * delay and CPU are given too. Writes `inspector.md` and `inspector.json` next to the main report.
 *
 * Standalone: `npx tsx test/bench/inspector.ts [--sizes 200,2000] [--window 20] [--out dir]`.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_FLAGS, haveChromium } from '../helpers/chromium.ts';
import {
  LONG_TASK_PROBE,
  clickToView,
  domNodes,
  firstScreen,
  keystrokeDelay,
  measureWindow,
  startChurnServer,
  watchPage,
  within,
  type PageWindow
} from '../helpers/inspector-scale.ts';

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

/** The pool and the inspector in their own process (test/helpers/inspector-pool-process.ts). */
async function startPoolProcess(
  port: number,
  peers: number
): Promise<{ url: string; ask<T>(type: string, answer?: string): Promise<T>; tell(type: string): void; stop(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('../helpers/inspector-pool-process.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, CHURN_PORT: String(port), PEERS: String(peers) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve) => {
      const listener = (message: { type: string }): void => {
        if (message.type !== type) return;
        child.off('message', listener);
        resolve(message as T);
      };
      child.on('message', listener);
    });
  const { url } = await within(next<{ url: string }>('ready'), 60_000, 'pool process start');
  return {
    url,
    ask: <T>(type: string, answer = type): Promise<T> => {
      const reply = next<T>(answer);
      child.send({ type });
      return within(reply, 60_000, `pool process ${type}`);
    },
    tell: (type) => void child.send({ type }),
    stop: async () => {
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
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
  const pool = await startPoolProcess(server.port, peers);
  const status = (): Promise<{ connected: number; notConnected: number }> => pool.ask('status');
  try {
    const page = await openPage(browser, pool.url);
    const watch = await watchPage(page);
    const deadline = Date.now() + 90_000;
    while ((await status()).connected < peers * 0.95 && Date.now() < deadline) await sleep(500);
    await sleep(8000);
    log(`inspector: ${peers} peers connected, measuring ${windowMs / 1000} s`);
    pool.tell('cost-start');
    const window = await measureWindow(page, watch, windowMs);
    const poolCost = await pool.ask<{ cpuPct: number; loopP99Ms: number; loopMaxMs: number }>('cost-stop', 'cost');
    const screen = await within(firstScreen(page), 30_000, 'first screen');
    const { notConnected } = await status();
    const nodes = await within(domNodes(page), 30_000, 'DOM nodes');
    const target = screen.failingIds[0] ?? ((await page.evaluate(`[...document.querySelectorAll('[data-peer]')][2]?.dataset.peer`)) as string);
    const clickMs = await within(clickToView(page, target), 30_000, 'click');
    const input = (await page.locator('#search').count()) > 0 ? '#search' : '#filter';
    const keystrokeMs = await within(keystrokeDelay(page, input, `ws://127.0.0.1:${server.port}/peer/012`.slice(0, 28)), 60_000, 'typing');
    await page.close();
    let late: PageWindow | undefined;
    if (peers >= 2000) {
      const second = await within(openPage(browser, pool.url), 60_000, 'late page');
      const secondWatch = await watchPage(second);
      await sleep(8000);
      late = await measureWindow(second, secondWatch, Math.min(windowMs, 15_000));
      await second.close();
    }
    return {
      peers,
      page: window,
      late,
      keystrokeMs,
      clickMs,
      domNodes: nodes,
      firstScreen: { rows: screen.rows, failing: screen.failing, notConnected },
      pool: { cpuPct: poolCost.cpuPct, loopP99Ms: poolCost.loopP99Ms, loopMaxMs: poolCost.loopMaxMs }
    };
  } finally {
    await pool.stop();
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
    line(
      'long tasks per s, longest',
      (row) =>
        `${row.page.longTasksPerS.toFixed(2)}, ${ms(row.page.longestTaskMs)}${row.late ? ` (late: ${row.late.longTasksPerS.toFixed(2)}, ${ms(row.late.longestTaskMs)})` : ''}`
    ),
    line('delay per keystroke', (row) => ms(row.keystrokeMs)),
    line('click a row → view updated', (row) => ms(row.clickMs)),
    line('DOM nodes', (row) => row.domNodes.toLocaleString('en-US')),
    line('traffic to the page', (row) => `${row.page.trafficKBs.toFixed(1)} KB/s`),
    line('failing rows on the first screen', (row) => `${row.firstScreen.failing} of ${row.firstScreen.notConnected} (${row.firstScreen.rows} rows shown)`),
    line('pool process CPU (pool and inspector)', (row) => pct(row.pool.cpuPct)),
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
