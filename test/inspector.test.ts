import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, createMachine, type InspectionEvent } from 'xstate';
import { parseArgs } from '../src/demo/args.ts';
import { InvalidOptionError } from '../src/errors.ts';
import { inspectorPageModule, refreshPageSvgs } from '../src/diagrams/inspector-page.ts';
import { InspectionHub } from '../src/inspector/hub.ts';
import { loadInspectorPage } from '../src/inspector/page.ts';
import { INSPECTOR_PAGE } from '../src/inspector/page-html.ts';
import { INSPECTOR_DEFAULTS, createInspector, type Inspector } from '../src/inspector/server.ts';
import { toStatelyInspector } from '../src/inspector/stately-adapter.ts';
import type { WireActorEvent, WireLifecycleEvent, WireMessage, WireSnapshotEvent, WireStats } from '../src/inspector/wire.ts';
import { redactUrl } from '../src/normalize-url.ts';
import { createPool } from '../src/node.ts';
import type { Pool } from '../src/pool.ts';
import type { PoolOptions } from '../src/types.ts';
import { openViewer, socketUrl, upgradeStatus, type Viewer } from './helpers/inspector-viewer.ts';
import { startServer, type TestServer } from './helpers/servers.ts';

// Passes every call through; lets one test see the options each actor was created with.
vi.mock('xstate', async (importOriginal) => {
  const original = await importOriginal<typeof import('xstate')>();
  return { ...original, createActor: vi.fn(original.createActor) };
});

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function inspector(options: Parameters<typeof createInspector>[0] = {}): Promise<Inspector> {
  const started = await createInspector(options);
  cleanups.push(() => started.close());
  return started;
}
function pool(options: PoolOptions): Pool {
  const created = createPool({ reconnectDelay: 50, closeTimeout: 200, ...options });
  cleanups.push(() => created.close());
  return created;
}
async function server(): Promise<TestServer> {
  const started = await startServer();
  cleanups.push(() => started.close());
  return started;
}
async function viewer(url: string): Promise<Viewer> {
  const opened = await openViewer(url);
  cleanups.push(() => opened.close());
  return opened;
}
const withToken = (url: string, token: string): string => url.replace(/token=[^&]+/, `token=${token}`);
const isActor = (name: string) => (m: WireMessage): m is WireActorEvent => m.type === '@xstate.actor' && m.name === name;

describe('createInspector', () => {
  it('listens on 127.0.0.1 and puts a fresh random token in its URL', async () => {
    const [a, b] = [await inspector(), await inspector()];
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    expect(new URL(a.url).searchParams.get('token')).not.toBe(new URL(b.url).searchParams.get('token'));
  });

  it('refuses options that would expose it or weaken the token', async () => {
    await expect(createInspector({ host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(InvalidOptionError);
    await expect(createInspector({ token: 'short' })).rejects.toThrow(/`token`/);
    await expect(createInspector({ token: 'short' })).rejects.not.toThrow(/short/);
  });

  it('answers 403 to the page without the token or with a wrong one', async () => {
    const { url } = await inspector();
    expect((await fetch(url.split('?')[0] ?? url)).status).toBe(403);
    expect((await fetch(withToken(url, 'x'.repeat(32)))).status).toBe(403);
  });

  it('serves the self-contained page with the right token', async () => {
    const { url } = await inspector();
    const response = await fetch(url);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('<script>');
    // No CDN, no remote font or stylesheet: nothing is loaded from another origin.
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
  });

  it('refuses the WebSocket upgrade with 403 on a wrong token, and accepts the right one', async () => {
    const { url } = await inspector();
    expect(await upgradeStatus(socketUrl(url, 'y'.repeat(32)))).toBe(403);
    expect(await upgradeStatus(socketUrl(url))).toBe(101);
  });
});

describe('the page module (src/inspector/page-html.ts)', () => {
  it('carries visualizations/inspector.html exactly: it is current (npm run diagrams rewrites it)', () => {
    const html = readFileSync(new URL('../visualizations/inspector.html', import.meta.url), 'utf8');
    expect(INSPECTOR_PAGE === html, 'src/inspector/page-html.ts is stale: run npm run diagrams').toBe(true);
    expect(readFileSync(new URL('../src/inspector/page-html.ts', import.meta.url), 'utf8')).toBe(inspectorPageModule(html));
  });

  it('shows the worker chart generated from the machine (visualizations/worker-public.svg), current', () => {
    const html = readFileSync(new URL('../visualizations/inspector.html', import.meta.url), 'utf8');
    const svg = readFileSync(new URL('../visualizations/worker-public.svg', import.meta.url), 'utf8');
    expect(html).toContain(svg);
    expect(refreshPageSvgs(html, { 'worker-public': svg }) === html, 'the chart in inspector.html is stale: run npm run diagrams').toBe(true);
  });

    it('is what the server serves, read from no file (an installed package has no visualizations/)', async () => {
    expect(await loadInspectorPage()).toBe(INSPECTOR_PAGE);
    expect(readFileSync(new URL('../src/inspector/page.ts', import.meta.url), 'utf8')).not.toMatch(/node:fs|readFile/);
  });
});

describe('docs/inspector.md', () => {
  it('documents the inspector defaults exactly as INSPECTOR_DEFAULTS has them', () => {
    const page = readFileSync(new URL('../docs/inspector.md', import.meta.url), 'utf8');
    const section = page.slice(page.indexOf('## The inspector'), page.indexOf('## Diagrams'));
    const rows = new Map(section.split('\n').filter((line) => line.startsWith('| `')).map((line) => {
      const [name = '', value = ''] = line.slice(1, -1).split(' | ').map((cell) => cell.trim().replaceAll('`', ''));
      return [name, value];
    }));
    for (const [name, value] of Object.entries(INSPECTOR_DEFAULTS)) {
      expect(rows.get(name), `README default of ${name}`).toBe(typeof value === 'string' ? `'${value}'` : String(value));
    }
  });
});

describe('the event stream', () => {
  it('shows the pool, the peer worker under it and the worker reaching connected', async () => {
    const peer = await server();
    const insp = await inspector();
    const page = await viewer(insp.url);
    const p = pool({ id: 'watched', inspect: insp.inspect });
    const id = p.connect(peer.url);
    const root = await page.waitFor(isActor('watched'));
    const worker = await page.waitFor(isActor(redactUrl(id)));
    expect(worker.parentId).toBe(root.sessionId);
    await page.waitFor((m) => m.type === '@xstate.snapshot' && m.sessionId === worker.sessionId && (m.snapshot.tags ?? []).includes('connected'));
    const connected = (await page.waitFor((m) => m.type === '@xstate.action')) as WireLifecycleEvent;
    expect(connected.action.params.event).toMatchObject({ type: 'connected', id: redactUrl(id) });
  });

  it('sends no payload, no context object, no URL password and no query value, live or in the replay', async () => {
    const peer = await server();
    peer.wss.on('connection', (socket) => socket.send('PAYLOAD-from-the-peer'));
    const insp = await inspector();
    const live = await viewer(insp.url);
    const p = pool({ id: 'secretive', inspect: insp.inspect });
    insp.watch(p);
    const id = p.connect(`${peer.url.replace('ws://', 'ws://alice:hunter2-password@')}/?token=query-secret-7`);
    await live.waitFor((m) => m.type === '@xstate.action');
    p.send(id, 'OUTBOUND-from-the-pool');
    await live.waitFor((m): m is WireStats => m.type === '@honeybee.stats' && m.peers[0]?.received === 1 && m.peers[0].sent === 1, 3000);
    const late = await viewer(insp.url);
    await late.waitFor(isActor(redactUrl(id)));
    for (const text of [...live.frames, ...late.frames]) {
      for (const secret of ['hunter2', 'alice', 'query-secret-7', 'PAYLOAD-from-the-peer', 'OUTBOUND-from-the-pool', '"link"', '"timing"', 'lastActivityAt']) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('replays the current tree and timeline to a page that opens later', async () => {
    const peer = await server();
    const insp = await inspector();
    const p = pool({ id: 'early', inspect: insp.inspect });
    const id = p.connect(peer.url);
    await vi.waitFor(() => expect(p.stats().peers[0]?.state).toBe('connected'));
    const page = await viewer(insp.url);
    const worker = await page.waitFor(isActor(redactUrl(id)));
    expect(worker.snapshot.tags).toContain('connected');
    expect(page.messages.some((m) => m.type === '@xstate.action')).toBe(true);
  });

  it('keeps the actors of several pools apart', async () => {
    const insp = await inspector();
    const page = await viewer(insp.url);
    pool({ id: 'first', inspect: insp.inspect });
    pool({ id: 'second', inspect: insp.inspect });
    const [a, b] = [await page.waitFor(isActor('first')), await page.waitFor(isActor('second'))];
    expect(a.sessionId).not.toBe(b.sessionId);
    expect(a.rootId).toBe(a.sessionId);
  });

  it('sends the last batch on close(): after pool.close(), the page has the pool closed and every worker stopped', async () => {
    const peer = await server();
    // A long throttle: nothing after the connects reaches the page unless close() sends it.
    const insp = await createInspector({ throttleMs: 60_000 });
    const page = await openViewer(insp.url);
    const closedWith = new Promise<number>((resolve) => page.socket.once('close', (code) => resolve(code)));
    const p = createPool({ id: 'closing-down', inspect: insp.inspect, closeTimeout: 200 });
    insp.watch(p);
    const ids = [p.connect(peer.url), p.connect(`${peer.url}/second`)];
    await vi.waitFor(() => expect(p.stats().peers.map((entry) => entry.state)).toEqual(['connected', 'connected']));
    await p.close();
    await insp.close();
    expect(await closedWith).toBe(1001);
    const root = await page.waitFor(isActor('closing-down'));
    const last = (sessionId: string): WireSnapshotEvent | undefined =>
      page.messages.filter((m): m is WireSnapshotEvent => m.type === '@xstate.snapshot' && m.sessionId === sessionId).at(-1);
    expect(last(root.sessionId)?.snapshot).toMatchObject({ status: 'done', value: 'closed' });
    for (const id of ids) {
      const worker = await page.waitFor(isActor(redactUrl(id)));
      expect(last(worker.sessionId)?.snapshot.status, `${id} ends stopped`).toBe('done');
    }
    const stats = page.messages.filter((m): m is WireStats => m.type === '@honeybee.stats').at(-1);
    // The pool's counters as they were after close(): every peer gone or stopped.
    expect(stats).toBeDefined();
    expect(stats?.peers.filter((entry) => entry.state !== 'stopped')).toEqual([]);
  });

  it('closes every page connection and stops listening on close()', async () => {
    const insp = await createInspector();
    const page = await openViewer(insp.url);
    await insp.close();
    await page.close();
    await expect(fetch(insp.url)).rejects.toThrow();
  });
});

describe('InspectionHub', () => {
  const counter = createMachine({ id: 'counter', initial: 'even', states: { even: { on: { bump: 'odd' } }, odd: { on: { bump: 'even' } } } });

  it('sends one snapshot per actor and interval, the latest one', async () => {
    const hub = new InspectionHub({ throttleMs: 30, maxEvents: 10, statsIntervalMs: 1000 });
    const batches: WireMessage[][] = [];
    hub.attach((batch) => batches.push(JSON.parse(batch) as WireMessage[]));
    const actor = createActor(counter, { inspect: hub.inspect }).start();
    for (let i = 0; i < 101; i++) actor.send({ type: 'bump' });
    await vi.waitFor(() => expect(batches.length).toBeGreaterThan(1));
    const snapshots = (batches[1] ?? []).filter((m): m is WireSnapshotEvent => m.type === '@xstate.snapshot');
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]?.snapshot.value).toBe('odd');
    hub.close();
  });

  it('caps the replayed timeline at maxEvents', () => {
    const hub = new InspectionHub({ throttleMs: 10, maxEvents: 3, statsIntervalMs: 1000 });
    const root = createActor(counter);
    for (let at = 0; at < 10; at++) {
      const event = { type: '@xstate.action', actorRef: root, rootId: root.sessionId, action: { type: 'xstate.emit', params: { event: { type: 'connected', id: 'ws://a', at } } } };
      hub.inspect.next?.(event as InspectionEvent);
    }
    const timeline = hub.replay().filter((m): m is WireLifecycleEvent => m.type === '@xstate.action');
    expect(timeline.map((m) => m.action.params.event.at)).toEqual([7, 8, 9]);
    hub.close();
  });
});

describe('toStatelyInspector', () => {
  it('forwards sanitised Stately-shaped events with the machine definition', () => {
    const sent: Array<{ type: string; definition?: string }> = [];
    const observer = toStatelyInspector({ adapter: { send: (event: { type: string }) => sent.push(event) } });
    createActor(createMachine({ id: 'tiny', context: { link: { secret: 1 }, attempt: 2 } }), { inspect: observer }).start();
    expect(new Set(sent.map((e) => e.type))).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    expect(JSON.parse(sent[0]?.definition ?? '{}')).toMatchObject({ id: 'tiny' });
    expect(JSON.stringify(sent.filter((e) => e.type !== '@xstate.actor'))).not.toContain('secret');
  });
});

describe('a pool with no inspector attached', () => {
  it('creates every actor without an inspection observer', async () => {
    const spy = vi.mocked(createActor);
    spy.mockClear();
    const peer = await server();
    const p = pool({ id: 'plain' });
    p.connect(peer.url);
    await vi.waitFor(() => expect(p.stats().peers[0]?.state).toBe('connected'));
    await p.close();
    // The pool and the peer's worker (its socket belongs to the link, not to an actor): neither registers an observer.
    expect(spy.mock.calls.length).toBeGreaterThanOrEqual(2);
    for (const [, options] of spy.mock.calls) expect((options as { inspect?: unknown } | undefined)?.inspect).toBeUndefined();
  });

  it('passes the observer to the root only when one is given, and never calls it otherwise', async () => {
    const observer = vi.fn();
    const spy = vi.mocked(createActor);
    spy.mockClear();
    pool({ id: 'plain' });
    expect(observer).not.toHaveBeenCalled();
    pool({ id: 'inspected', inspect: observer });
    expect(spy.mock.calls.filter(([, options]) => (options as { inspect?: unknown } | undefined)?.inspect === observer)).toHaveLength(1);
    expect(observer).toHaveBeenCalled();
  });
});

describe('npm start -- --inspect', () => {
  it('is parsed as a flag, and only when given', () => {
    expect(parseArgs(['--inspect', '--duration', '2'])).toEqual({ kind: 'run', durationMs: 2000, urls: [], inspect: true });
    expect(parseArgs([])).not.toHaveProperty('inspect');
    expect(parseArgs(['--inspect=yes'])).toMatchObject({ kind: 'invalid' });
  });

  it('prints the inspector URL, serves the page while the demo runs, and closes cleanly', async () => {
    const demo = spawn('npx', ['tsx', 'src/demo/main.ts', '--inspect', '--duration', '3'], { cwd: new URL('..', import.meta.url) });
    let stdout = '';
    demo.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.on('exit', resolve));
    // Starting tsx takes seconds on a busy 2-core machine.
    await vi.waitFor(() => expect(stdout).toMatch(/inspector at http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/), { timeout: 25_000 });
    const url = /inspector at (\S+)/.exec(stdout)?.[1] ?? '';
    expect((await fetch(url)).status).toBe(200);
    const page = await viewer(url);
    await page.waitFor(isActor('honeybee-demo'));
    expect(await exited).toBe(0);
    expect(stdout).toContain('closed cleanly');
  }, 40_000);
});
