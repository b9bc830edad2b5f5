import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS as FLAGS, chromiumSkipNote as skipNote, haveChromium } from './helpers/chromium.ts';
import { startRestartablePeer, type RestartablePeer } from './helpers/restartable-peer.ts';
import { createInspector, type Inspector } from '../src/inspector/server.ts';
import { redactUrl } from '../src/normalize-url.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';

const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);

/** An embedded peer that can be stopped and started again on the same port. */
const startPeer = (): Promise<RestartablePeer> => startRestartablePeer();

const rowState = (page: Page, id: string): Promise<string | null> => page.locator(`[data-peer="${id}"]`).getAttribute('data-state');

// Records every data-state the peer's row takes, in order, so fast transitions are not missed by polling.
// Rows are recycled as the table scrolls and re-sorts: follow whichever row shows the peer.
function recordStates(page: Page, id: string): Promise<void> {
  return page.evaluate(`(() => {
    const current = () => [...document.querySelectorAll('[data-peer]')].find((row) => row.dataset.peer === ${JSON.stringify(id)});
    window.__states = [current().dataset.state];
    new MutationObserver(() => {
      const row = current();
      const state = row && row.dataset.state;
      if (state && window.__states[window.__states.length - 1] !== state) window.__states.push(state);
    }).observe(document.getElementById('spacer'), { subtree: true, attributes: true, attributeFilter: ['data-state', 'data-peer'] });
  })()`);
}

describe.skipIf(!haveChromium)(`the inspector page in Chromium${skipNote}`, () => {
  let browser: Browser;
  let inspector: Inspector;
  let pool: Pool;
  let peers: RestartablePeer[];
  let ids: string[];

  beforeAll(async () => {
    [browser, inspector, peers] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: FLAGS }),
      createInspector(),
      Promise.all([startPeer(), startPeer(), startPeer()])
    ]);
    pool = createPool({
      id: 'browser-test',
      inspect: inspector.inspect,
      reconnectDelay: 100,
      retry: { initialDelay: 100, maxDelay: 400 }
    });
    inspector.watch(pool);
    // The first id has capitals in its path: the page must show it as it is.
    ids = peers.map((peer, i) => redactUrl(pool.connect(`ws://127.0.0.1:${peer.port}${i === 0 ? '/Feed/MixedCase' : ''}`)));
  });

  afterAll(async () => {
    await browser?.close();
    await pool?.close();
    await inspector?.close();
    await Promise.all((peers ?? []).map((peer) => peer.stop()));
  });

  it('follows a worker from connected through backoff and back when its peer restarts', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(inspector.url);
    await expect.poll(() => page.locator('[data-peer][data-state="connected"]').count(), { timeout: 8000 }).toBe(3);
    const [victim = ''] = ids.slice(1);
    await recordStates(page, victim);

    await peers[1]?.stop();
    await page.waitForSelector(`[data-peer="${victim}"]:not([data-state="connected"])`, { timeout: 5000 });
    await page.waitForSelector(`[data-peer="${victim}"][data-state="backoff"]`, { timeout: 5000 });
    await peers[1]?.start();
    await page.waitForSelector(`[data-peer="${victim}"][data-state="connected"]`, { timeout: 8000 });

    const states = await page.evaluate<string[]>('window.__states');
    const backoff = states.indexOf('backoff');
    expect(states[0]).toBe('connected');
    expect(backoff).toBeGreaterThan(0);
    expect(states.slice(1, backoff)).not.toContain('connected');
    expect(states.at(-1)).toBe('connected');
    // The other peers never moved, and the timeline tells what happened to this one.
    expect([await rowState(page, ids[0] ?? ''), await rowState(page, ids[2] ?? '')]).toEqual(['connected', 'connected']);
    await expect.poll(() => page.locator(`#timeline li[data-event-peer="${victim}"][data-event-type="disconnected"]`).count()).toBeGreaterThan(0);
    expect(await page.locator('.chip[data-state="connected"] b').textContent()).toBe('3');
    // Its own timeline, newest first: back to connected after the failures, in the details beside the table.
    await page.locator(`[data-peer="${victim}"]`).click();
    await expect.poll(() => page.locator('#timeline[data-scope="peer"] li').count()).toBeGreaterThanOrEqual(3);
    const own = (await page
      .locator('#timeline li')
      .evaluateAll((items) =>
        items.map((item) => [item.getAttribute('data-event-peer'), Number(item.getAttribute('data-at')), item.getAttribute('data-event-type')])
      )) as Array<[string, number, string]>;
    expect(new Set(own.map(([peer]) => peer))).toEqual(new Set([victim]));
    expect(own.map(([, at]) => at)).toEqual(own.map(([, at]) => at).sort((a, b) => b - a));
    expect(own[0]?.[2]).toBe('connected');
    expect(own.map(([, , type]) => type)).toContain('disconnected');
    expect(errors).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('inspector.png', ARTIFACTS).pathname, timeout: 10_000 });
    await page.close();
  });

  it.each([1280, 1920])('fits a %i px window: one line per row and heading, no horizontal scroll, no word broken, public state names only', async (width) => {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    await page.goto(inspector.url);
    await expect.poll(() => page.locator('[data-peer][data-state="connected"]').count(), { timeout: 8000 }).toBe(3);
    // Select a row: its details, with its state lit on the chart, stay in view beside the table.
    await page.locator('[data-peer]').first().click();
    await expect.poll(() => page.locator('#diagram g.node.on').getAttribute('id')).toBe('state:connected');
    const layout = (await page.evaluate(`(() => {
      const root = document.documentElement;
      const cells = [...document.querySelectorAll('.row:not([hidden]) > span, .head > button')];
      const oneLine = (node) => node.scrollHeight <= node.clientHeight + 1 && node.getBoundingClientRect().height <= 30;
      const texts = [...document.querySelectorAll('.head > button, .chip, .summary span, #status, #order, #counters dt, .tl-head h2, aside h2')];
      const details = document.querySelector('aside').getBoundingClientRect();
      return {
        scroll: root.scrollWidth - root.clientWidth,
        columns: document.querySelectorAll('.head > button').length,
        hidden: cells.filter((cell) => { const box = cell.getBoundingClientRect(); return box.width < 20 || box.right > window.innerWidth || box.left < 0; }).length,
        wrapped: cells.filter((cell) => !oneLine(cell)).map((cell) => cell.textContent),
        // A heading, count or label that wraps has broken inside a word or between words: neither may happen.
        brokenLabels: texts.filter((node) => {
          const tops = [];
          const walk = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(walk.currentNode);
            for (const box of range.getClientRects()) if (box.width > 0) tops.push(box.top);
          }
          return tops.length > 0 && Math.max(...tops) - Math.min(...tops) > 8;
        }).map((node) => node.textContent),
        detailsInView: details.top >= 0 && details.left < window.innerWidth && details.width >= 380,
        upperCased: [...document.querySelectorAll('#peer-id, .peer')].filter((node) => getComputedStyle(node).textTransform !== 'none').length,
        states: [...document.querySelectorAll('.row[data-peer] .badge')].map((badge) => badge.textContent),
        changes: [...document.querySelectorAll('.row[data-peer] .last')].map((cell) => cell.textContent)
      };
    })()`)) as {
      scroll: number;
      columns: number;
      hidden: number;
      wrapped: string[];
      brokenLabels: string[];
      detailsInView: boolean;
      upperCased: number;
      states: string[];
      changes: string[];
    };
    expect(layout.scroll, 'horizontal scroll').toBeLessThanOrEqual(0);
    expect(await page.locator('.chip[data-state="connected"] b').textContent()).toBe('3');
    expect(layout.columns).toBe(7);
    expect(layout.hidden, 'cells cut off or squeezed').toBe(0);
    expect(layout.wrapped, 'cells on more than one line').toEqual([]);
    expect(layout.brokenLabels, 'labels broken over two lines').toEqual([]);
    expect(layout.detailsInView).toBe(true);
    expect(layout.upperCased, 'ids shown in another case').toBe(0);
    const first = await page.locator('[data-peer]').first().getAttribute('data-peer');
    expect(await page.locator('#peer-id').textContent()).toBe(first);
    expect(await page.locator(`[data-peer="${ids[0]}"]`).getAttribute('data-peer')).toContain('/Feed/MixedCase');
    for (const state of layout.states) expect(['dialing', 'connected', 'closing', 'backoff', 'stopped']).toContain(state);
    for (const change of layout.changes) expect(change).not.toMatch(/xstate\.|heartbeatDelay/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL(`inspector-${width}.png`, ARTIFACTS).pathname, timeout: 10_000 });
    await page.close();
  });

  it('refuses the page with 403 when the token is wrong', async () => {
    const page = await browser.newPage();
    const response = await page.goto(inspector.url.replace(/token=[^&]+/, `token=${'z'.repeat(32)}`));
    expect(response?.status()).toBe(403);
    expect(await page.locator('[data-peer]').count()).toBe(0);
    await page.close();
  });
});

describe.skipIf(!haveChromium)(`the inspector page after close${skipNote}`, () => {
  it('says "pool closed" and shows every peer stopped after pool.close() then inspector.close()', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const peers = await Promise.all([startPeer(), startPeer()]);
    const inspector = await createInspector();
    const pool = createPool({ id: 'closing-test', inspect: inspector.inspect, closeTimeout: 200 });
    inspector.watch(pool);
    try {
      for (const peer of peers) pool.connect(`ws://127.0.0.1:${peer.port}`);
      const page = await browser.newPage({ viewport: { width: 1280, height: 700 } });
      let sockets = 0;
      page.on('websocket', () => (sockets += 1));
      await page.goto(inspector.url);
      await expect.poll(() => page.locator('[data-peer][data-state="connected"]').count(), { timeout: 8000 }).toBe(2);
      // The order the README shows: nothing in between gives the page time to catch up.
      await pool.close();
      await inspector.close();
      await page.waitForSelector('#status:has-text("inspector closed")', { timeout: 5000 });
      // A deliberate close (1001): the page says so and does not dial again.
      await page.waitForTimeout(1500);
      expect(await page.locator('#status').textContent()).toBe('inspector closed');
      expect(sockets).toBe(1);
      expect(await page.locator('.summary [data-key="closed"]').textContent()).toBe('pool closed');
      expect(await page.locator('.summary [data-key="state"] b').textContent()).toBe('closed');
      expect(await page.locator('[data-peer]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-state')))).toEqual(['stopped', 'stopped']);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL('inspector-closed.png', ARTIFACTS).pathname, timeout: 10_000 });
    } finally {
      await browser.close();
      await pool.close();
      await inspector.close();
      await Promise.all(peers.map((peer) => peer.stop()));
    }
  });
});
