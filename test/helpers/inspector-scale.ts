/**
 * The inspector page at scale, measured the way the research note
 * (shared/research/inspector-at-scale.md) did it: a churning peer server in
 * its own process, a pool of N peers with the inspector, the page in headless
 * Chromium. Used by test/inspector-scale.test.ts and the bench
 * (`npm run bench -- --only inspector`).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CDPSession, Page } from 'playwright-core';

/** Every 100th peer is refused with 503 (it keeps failing); the others connect and churn. */
export const FAILING_EVERY = 100;

export interface ChurnServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts test/helpers/churn-server.ts in its own process. */
export async function startChurnServer(): Promise<ChurnServer> {
  const script = fileURLToPath(new URL('./churn-server.ts', import.meta.url));
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`churn server exited with ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return {
    port,
    stop: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
}

/** The peer URLs: `/peer/00000`…, every {@link FAILING_EVERY}th one `/fail/…` instead. */
export function peerUrls(port: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const path = i % FAILING_EVERY === FAILING_EVERY - 1 ? 'fail' : 'peer';
    return `ws://127.0.0.1:${port}/${path}/${String(i).padStart(5, '0')}`;
  });
}

/** Counts long tasks from the page's first moment (an init script). */
export const LONG_TASK_PROBE = `(() => {
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => { for (const entry of list.getEntries()) window.__longTasks.push([entry.startTime, entry.duration]); })
      .observe({ type: 'longtask', buffered: true });
  } catch {}
})()`;

export interface PageWindow {
  /** Share of wall time the page's main thread was busy (CDP TaskDuration), %. */
  busyPct: number;
  longTasksPerS: number;
  longestTaskMs: number;
  /** WebSocket payload received by the page, KB/s. */
  trafficKBs: number;
}

/** Opens a CDP session that counts WebSocket payload bytes received. */
export async function watchPage(page: Page): Promise<{ cdp: CDPSession; bytes: () => number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Network.enable');
  let bytes = 0;
  cdp.on('Network.webSocketFrameReceived', (event) => {
    bytes += event.response.payloadData.length;
  });
  return { cdp, bytes: () => bytes };
}

async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((metric) => metric.name === 'TaskDuration')?.value ?? 0;
}

/** Fails with a message naming `what` if `promise` takes longer than `ms`: a stuck page must not hang the run. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Measures the page over `ms` of wall time. */
export async function measureWindow(page: Page, watch: { cdp: CDPSession; bytes: () => number }, ms: number): Promise<PageWindow> {
  const busy0 = await within(taskSeconds(watch.cdp), 30_000, 'Performance.getMetrics');
  const bytes0 = watch.bytes();
  const start = (await within(page.evaluate('performance.now()'), 30_000, 'performance.now() in the page')) as number;
  const wall0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const busy1 = await within(taskSeconds(watch.cdp), 30_000, 'Performance.getMetrics');
  const bytes1 = watch.bytes();
  const wall = (performance.now() - wall0) / 1000;
  const tasks = (await within(page.evaluate(`window.__longTasks.filter(([at]) => at >= ${start}).map(([, d]) => d)`), 30_000, 'long tasks')) as number[];
  return {
    busyPct: ((busy1 - busy0) / wall) * 100,
    longTasksPerS: tasks.length / wall,
    longestTaskMs: tasks.length === 0 ? 0 : Math.max(...tasks),
    trafficKBs: (bytes1 - bytes0) / 1024 / wall
  };
}

/** Elements and text nodes in the document. */
export function domNodes(page: Page): Promise<number> {
  return page.evaluate(
    `(() => { let n = 0; const walk = document.createTreeWalker(document, NodeFilter.SHOW_ALL); while (walk.nextNode()) n++; return n; })()`
  ) as Promise<number>;
}

/** Rows (`[data-peer]`) inside the viewport: how many, and how many of them are not connected. */
export function firstScreen(page: Page): Promise<{ rows: number; failing: number; failingIds: string[] }> {
  return page.evaluate(`(() => {
    const rows = [...document.querySelectorAll('[data-peer]')].filter((row) => {
      const box = row.getBoundingClientRect();
      return !row.hidden && box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
    });
    const failing = rows.filter((row) => row.dataset.state !== 'connected');
    return { rows: rows.length, failing: failing.length, failingIds: failing.map((row) => row.dataset.peer) };
  })()`) as Promise<{ rows: number; failing: number; failingIds: string[] }>;
}

/**
 * Types `text` into `selector` at 30 ms a key, as a person would, and returns
 * the delay each keystroke added over the pacing (to the frame after the last key).
 */
export async function keystrokeDelay(page: Page, selector: string, text: string): Promise<number> {
  await page.focus(selector);
  const started = performance.now();
  await page.keyboard.type(text, { delay: 30 });
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
  return Math.max(0, (performance.now() - started - text.length * 30) / text.length);
}

/**
 * Clicks the row of `peer` (which must be on screen) and returns the time from
 * the click event to the first frame after the row shows selected, ms.
 */
export async function clickToView(page: Page, peer: string): Promise<number> {
  const watch = page.evaluate(`new Promise((resolve) => {
    setTimeout(() => resolve(NaN), 5000);
    document.addEventListener('click', (event) => {
      const started = event.timeStamp;
      const check = () => {
        const row = [...document.querySelectorAll('[data-peer]')].find((node) => node.dataset.peer === ${JSON.stringify(peer)});
        if (row && row.classList.contains('selected')) requestAnimationFrame(() => resolve(performance.now() - started));
        else requestAnimationFrame(check);
      };
      check();
    }, { capture: true, once: true });
  })`) as Promise<number>;
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
  const box = (await page.evaluate(`(() => {
    const row = [...document.querySelectorAll('[data-peer]')].find((node) => node.dataset.peer === ${JSON.stringify(peer)});
    const r = row.getBoundingClientRect();
    return { x: r.left + 20, y: r.top + r.height / 2 };
  })()`)) as { x: number; y: number };
  await page.mouse.click(box.x, box.y);
  return watch;
}

/** Reads a pool's inbox and events as fast as they come, as an application would (so no socket pauses). */
export function drain(pool: { inbox: { drain(max?: number): unknown[] }; events: { drain(max?: number): unknown[] } }): () => void {
  const timer = setInterval(() => {
    pool.inbox.drain();
    pool.events.drain();
  }, 50);
  return () => clearInterval(timer);
}
