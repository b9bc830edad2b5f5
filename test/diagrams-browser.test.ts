import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AnyStateNode } from 'xstate';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolMachine } from '../machines/pool-machine.ts';
import { workerMachine } from '../machines/worker-machine.ts';
import { CHROMIUM, CHROMIUM_FLAGS as FLAGS, chromiumSkipNote as skipNote, haveChromium } from './helpers/chromium.ts';

const OUT = new URL('../visualizations/', import.meta.url);
const ARTIFACTS = new URL('../test-artifacts/diagrams/', import.meta.url);
const charts = readdirSync(OUT)
  .filter((file) => file.endsWith('.mmd'))
  .map((file) => file.replace(/\.mmd$/, ''))
  .sort();
const svgs = readdirSync(OUT)
  .filter((file) => file.endsWith('.svg'))
  .sort();

/** What the page measures of one drawn SVG, in CSS pixels. */
interface Measured {
  width: number;
  /** Drawn elements whose box reaches outside the SVG's own box. */
  outside: string[];
  /** Pairs of text lines that overlap each other. */
  overlapping: string[];
  /** Text lines that stick out of their state's box. */
  outOfBox: string[];
  smallestText: number;
}

// Runs in the page: every box is compared in screen pixels, against the <svg> element's box
// (which is its viewBox, scaled), with half a pixel of slack for anti-aliasing.
const MEASURE = `(() => {
  const svg = document.querySelector('svg');
  const frame = svg.getBoundingClientRect();
  const slack = 0.5;
  const describe = (el) => (el.closest('g[id]')?.id ?? el.tagName) + ' ' + el.tagName + (el.textContent ? ' "' + el.textContent.trim() + '"' : '');
  const outside = [];
  for (const el of svg.querySelectorAll('text, path, polygon, polyline, ellipse')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < frame.left - slack || box.top < frame.top - slack || box.right > frame.right + slack || box.bottom > frame.bottom + slack) outside.push(describe(el));
  }
  // A text's own box spans the font's whole line height; lines of one label are set closer than
  // that without touching, so overlap is judged on the glyphs: cap height above the baseline, descenders below.
  const glyphs = (el) => {
    const box = el.getBoundingClientRect();
    const m = el.getScreenCTM();
    const baseline = m.d * el.y.baseVal[0].value + m.f;
    const size = parseFloat(getComputedStyle(el).fontSize) * m.d;
    return { left: box.left, right: box.right, top: baseline - 0.75 * size, bottom: baseline + 0.22 * size };
  };
  const texts = [...svg.querySelectorAll('text')].map((el) => ({ el, box: glyphs(el) }));
  const overlapping = [];
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i].box, b = texts[j].box;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) overlapping.push(describe(texts[i].el) + ' / ' + describe(texts[j].el));
    }
  }
  const outOfBox = [];
  for (const node of svg.querySelectorAll('g.node')) {
    const shape = node.querySelector('path, polygon');
    if (shape === null) continue;
    const box = shape.getBoundingClientRect();
    for (const text of node.querySelectorAll('text')) {
      const t = text.getBoundingClientRect();
      if (t.left < box.left - slack || t.right > box.right + slack || t.top < box.top - slack || t.bottom > box.bottom + slack) outOfBox.push(describe(text));
    }
  }
  const smallestText = Math.min(...[...svg.querySelectorAll('text')].map((el) => parseFloat(getComputedStyle(el).fontSize) * (frame.width / svg.viewBox.baseVal.width)));
  return { width: frame.width, outside, overlapping, outOfBox, smallestText };
})()`;

// Runs in the page on a chart Mermaid drew: no two state boxes overlap, no edge label covers a
// state or another label, and nothing covers a compound state's caption but the state itself
// and the compound states around it. Labels are measured by their text (the label's own box).
const MEASURE_MERMAID = `(() => {
  const svg = document.querySelector('#chart svg');
  const name = (el) => (el.textContent || el.id || el.getAttribute('class') || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
  const sized = (box) => box.width > 0.5 && box.height > 0.5;
  const boxOf = (el) => el.getBoundingClientRect();
  const cut = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const within = (inner, outer) => inner.left >= outer.left - 1 && inner.right <= outer.right + 1 && inner.top >= outer.top - 1 && inner.bottom <= outer.bottom + 1;
  const states = [...svg.querySelectorAll('g.node')].map((el) => ({ what: 'state ' + name(el), box: boxOf(el) })).filter((s) => sized(s.box));
  const labels = [...svg.querySelectorAll('g.edgeLabel')].filter((el) => el.textContent.trim() !== '')
    .map((el) => ({ what: 'label ' + name(el), box: boxOf(el.querySelector('span, p, div, text') || el) })).filter((s) => sized(s.box));
  const clusters = [...svg.querySelectorAll('g.cluster, g.statediagram-cluster')].map((el) => ({
    what: 'compound ' + name(el.querySelector('.cluster-label') || el),
    box: boxOf(el.querySelector('rect') || el),
    caption: boxOf(el.querySelector('.cluster-label span, .cluster-label p, .cluster-label div, .cluster-label text') || el.querySelector('.cluster-label') || el)
  }));
  const found = [];
  const items = [...states, ...labels];
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    if (cut(items[i].box, items[j].box)) found.push(items[i].what + ' / ' + items[j].what);
  }
  for (const c of clusters) {
    for (const item of items) if (cut(c.caption, item.box)) found.push(c.what + ' caption / ' + item.what);
    for (const other of clusters) {
      if (other === c || within(c.caption, other.box)) continue;
      if (cut(c.caption, other.box)) found.push(c.what + ' caption / ' + other.what);
    }
  }
  return found;
})()`;

const statesOf = (node: AnyStateNode): AnyStateNode[] => (Object.values(node.states) as AnyStateNode[]).flatMap((child) => [child, ...statesOf(child)]);

describe.skipIf(!haveChromium)(`the diagrams in Chromium${skipNote}`, () => {
  let browser: Browser;
  let mermaidPage: Promise<Page> | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('have SVGs to check', () => {
    expect(svgs).toEqual(expect.arrayContaining(['pool.svg', 'worker-public.svg', 'worker.svg']));
  });

  it.each(svgs)('%s: nothing lies outside the viewBox, no text overlaps, every name fits its box', async (file) => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${readFileSync(new URL(file, OUT), 'utf8')}</body></html>`);
    const measured = (await page.evaluate(MEASURE)) as Measured;
    expect(measured.outside, 'elements outside the viewBox').toEqual([]);
    expect(measured.overlapping, 'overlapping text').toEqual([]);
    expect(measured.outOfBox, 'text outside its state').toEqual([]);
    await page.close();
  });

  it.each(svgs)('%s reads at 800 px wide: its text stays at least 9 px tall', async (file) => {
    const page = await browser.newPage({ viewport: { width: 800, height: 1200 } });
    await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${readFileSync(new URL(file, OUT), 'utf8')}</body></html>`);
    await page.evaluate(
      `(() => { const svg = document.querySelector('svg'); svg.style.width = Math.min(800, svg.getBoundingClientRect().width) + 'px'; svg.style.height = 'auto'; })()`
    );
    const measured = (await page.evaluate(MEASURE)) as Measured;
    expect(measured.width).toBeLessThanOrEqual(800);
    expect(measured.smallestText).toBeGreaterThanOrEqual(9);
    await page.locator('svg').screenshot({ path: new URL(file.replace(/\.svg$/, '.png'), ARTIFACTS).pathname });
    await page.close();
  });

  /** Renders one chart with Mermaid on the shared page; returns the names of the states and compounds it drew. */
  const drawMermaid = async (name: string): Promise<{ page: Page; labels: string[] }> => {
    // One page with Mermaid loaded serves every chart: parsing its 3 MB script is the slow part.
    mermaidPage ??= (async () => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.setContent('<!doctype html><html><body style="margin:0;background:#fff"><div id="chart"></div></body></html>');
      await page.addScriptTag({ path: createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js') });
      await page.evaluate(`mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' })`);
      return page;
    })();
    const page = await mermaidPage;
    const source = readFileSync(new URL(`${name}.mmd`, OUT), 'utf8');
    const labels = (await page.evaluate(`(async () => {
      const { svg } = await mermaid.render('chart-svg-${name}', ${JSON.stringify(source)});
      document.getElementById('chart').innerHTML = svg;
      return [...document.querySelectorAll('#chart g.node, #chart g.cluster, #chart g.statediagram-state')].map((g) => g.textContent.trim());
    })()`)) as string[];
    await page.locator('#chart svg').screenshot({ path: new URL(`${name}-mermaid.png`, ARTIFACTS).pathname });
    return { page, labels };
  };

  it.each(charts)('%s.mmd, rendered by Mermaid as GitHub does, has no box or label over another', async (name) => {
    const { page } = await drawMermaid(name);
    expect(await page.evaluate(MEASURE_MERMAID), `overlaps in ${name}.mmd as Mermaid draws it`).toEqual([]);
  });

  it.each([
    ['worker', workerMachine],
    ['pool', poolMachine]
  ] as const)('the %s machine’s Mermaid charts, together, show every state by its name', async (name, machine) => {
    // A state Mermaid cannot lay out inside its parent has a chart of its own, `<name>-<state>.mmd`.
    const own = charts.filter((chart) => chart === name || (chart.startsWith(`${name}-`) && chart !== `${name}-public`));
    const labels = [];
    for (const chart of own) labels.push(...(await drawMermaid(chart)).labels);
    for (const state of statesOf(machine.root)) {
      expect(
        labels.some((label) => label.startsWith(state.key)),
        `${state.key} is shown by name in ${own.join(' or ')}.mmd`
      ).toBe(true);
    }
  });
});
