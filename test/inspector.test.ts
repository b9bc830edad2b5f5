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
import type { WireActorEvent, WireEvents, WireHistory, WireLastEvents, WireLifecycle, WireMessage, WireSnapshot, WireStats } from '../src/inspector/wire.ts';
import type { WatchablePool } from '../src/inspector/stats.ts';
import type { PeerStats, PoolStats } from '../src/types.ts';
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
const isActor =
  (name: string) =>
  (m: WireMessage): m is WireActorEvent =>
    m.type === '@xstate.actor' && m.name === name;

/** An actor as the page learns it: a root's `@xstate.actor`, or a row of a replay's `@honeybee.actors`. */
function actorNamed(messages: WireMessage[], name: string): { sessionId: string; parentId: string | undefined; snapshot: WireSnapshot } | undefined {
  for (const m of messages) {
    if (m.type === '@xstate.actor' && m.name === name) return { sessionId: m.sessionId, parentId: m.parentId, snapshot: m.snapshot };
    if (m.type === '@honeybee.actors') {
      const row = m.actors.find(([, , rowName]) => rowName === name);
      if (row) return { sessionId: row[0], parentId: row[1], snapshot: row[3] };
    }
  }
  return undefined;
}
/** Every snapshot sent for one actor, in order: `@xstate.snapshot` (roots) and `@honeybee.snapshots` rows (workers). */
function snapshotsOf(messages: WireMessage[], sessionId: string): WireSnapshot[] {
  const found: WireSnapshot[] = [];
  for (const m of messages) {
    if (m.type === '@xstate.snapshot' && m.sessionId === sessionId) found.push(m.snapshot);
    if (m.type === '@honeybee.snapshots') for (const [id, snapshot] of m.snapshots) if (id === sessionId) found.push(snapshot);
  }
  return found;
}
/** Every live lifecycle event received. */
const eventsIn = (messages: WireMessage[]): WireLifecycle[] => messages.flatMap((m) => (m.type === '@honeybee.events' ? m.events : []));

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
    const rows = new Map(
      section
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) => {
          const [name = '', value = ''] = line
            .slice(1, -1)
            .split(' | ')
            .map((cell) => cell.trim().replaceAll('`', ''));
          return [name, value];
        })
    );
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
    await vi.waitFor(() => expect(snapshotsOf(page.messages, worker.sessionId).some((snapshot) => (snapshot.tags ?? []).includes('connected'))).toBe(true));
    const connected = (await page.waitFor((m) => m.type === '@honeybee.events')) as WireEvents;
    expect(connected.sessionId).toBe(root.sessionId);
    expect(connected.events[0]).toMatchObject({ type: 'connected', id: redactUrl(id) });
    // XState's own events are not sent: the page has no use for them.
    expect(page.messages.map((m) => m.type as string)).not.toContain('@xstate.event');
  });

  it('sends no payload, no context object, no URL password and no query value, live or in the replay', async () => {
    const peer = await server();
    peer.wss.on('connection', (socket) => socket.send('PAYLOAD-from-the-peer'));
    const insp = await inspector();
    const live = await viewer(insp.url);
    const p = pool({ id: 'secretive', inspect: insp.inspect });
    insp.watch(p);
    const id = p.connect(`${peer.url.replace('ws://', 'ws://alice:hunter2-password@')}/?token=query-secret-7`);
    await live.waitFor((m) => m.type === '@honeybee.events');
    p.send(id, 'OUTBOUND-from-the-pool');
    await live.waitFor((m): m is WireStats => m.type === '@honeybee.stats' && m.peers[0]?.[2] === 1 && m.peers[0][3] === 1, 3000);
    const late = await viewer(insp.url);
    await vi.waitFor(() => expect(late.messages.some((m) => m.type === '@honeybee.actors')).toBe(true));
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
    await page.waitFor((m) => m.type === '@honeybee.actors');
    expect(page.messages[0]?.type).toBe('@honeybee.replay');
    const worker = actorNamed(page.messages, redactUrl(id));
    expect(worker?.snapshot.tags).toContain('connected');
    // The peer's last lifecycle event, and the recent timeline.
    const last = page.messages.find((m): m is WireLastEvents => m.type === '@honeybee.last');
    expect(last?.events).toEqual([expect.objectContaining({ type: 'connected', id: redactUrl(id) })]);
    expect(eventsIn(page.messages).map((event) => event.type)).toContain('connected');
  });

  it('tells apart peers whose ids differ only in masked query values, with a short hash of the full id', async () => {
    const peer = await server();
    const insp = await inspector();
    const page = await viewer(insp.url);
    const p = pool({ id: 'masked', inspect: insp.inspect });
    insp.watch(p);
    const ids = [p.connect(`${peer.url}/feed?token=first-secret-1`), p.connect(`${peer.url}/feed?token=second-secret-2`), p.connect(`${peer.url}/Plain/Case`)];
    const names = await vi.waitFor(() => {
      const found = page.messages.filter((m): m is WireActorEvent => m.type === '@xstate.actor' && m.parentId !== undefined).map((m) => m.name);
      expect(found).toHaveLength(3);
      return found;
    });
    const [first = '', second = '', plain = ''] = names;
    expect(first).toMatch(/\/feed\?token=\*\*\* #[0-9a-z]{6}$/);
    expect(first.slice(0, first.indexOf(' #'))).toBe(redactUrl(ids[0] ?? ''));
    expect(second.slice(0, second.indexOf(' #'))).toBe(redactUrl(ids[1] ?? ''));
    expect(first).not.toBe(second);
    // Nothing masked, nothing added: the id as it is, its case kept.
    expect(plain).toBe(ids[2]);
    expect(plain).toContain('/Plain/Case');
    // The same names on the timeline and in the counters, so the page puts them on one row each.
    await vi.waitFor(() => expect(new Set(eventsIn(page.messages).map((event) => event.id))).toEqual(new Set(names)));
    await page.waitFor((m) => m.type === '@honeybee.stats' && m.peers.length === 3, 3000);
    const stats = page.messages.filter((m): m is WireStats => m.type === '@honeybee.stats').at(-1);
    expect(new Set(stats?.peers.map((row) => row[0]))).toEqual(new Set(names));
    for (const text of page.frames) for (const secret of ['first-secret-1', 'second-secret-2']) expect(text).not.toContain(secret);
  });

  it("answers a page's request for one peer's history, and ignores anything else it sends", async () => {
    const peer = await server();
    const insp = await inspector();
    const p = pool({ id: 'asked', inspect: insp.inspect });
    const id = p.connect(peer.url);
    await vi.waitFor(() => expect(p.stats().peers[0]?.state).toBe('connected'));
    const page = await viewer(insp.url);
    const root = await page.waitFor(isActor('asked'));
    page.socket.send('not json');
    page.socket.send(JSON.stringify({ type: 'something else' }));
    page.socket.send(JSON.stringify({ type: 'history', sessionId: root.sessionId, id: redactUrl(id) }));
    const history = (await page.waitFor((m) => m.type === '@honeybee.history')) as WireHistory;
    expect(history).toMatchObject({ sessionId: root.sessionId, id: redactUrl(id), events: [{ type: 'connected', id: redactUrl(id) }] });
    expect(page.messages.filter((m) => m.type === '@honeybee.history')).toHaveLength(1);
    expect(page.socket.readyState).toBe(page.socket.OPEN);
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
    const last = (sessionId: string): WireSnapshot | undefined => snapshotsOf(page.messages, sessionId).at(-1);
    expect(last(root.sessionId)).toMatchObject({ status: 'done', value: 'closed' });
    for (const id of ids) {
      const worker = await page.waitFor(isActor(redactUrl(id)));
      expect(last(worker.sessionId)?.status, `${id} ends stopped`).toBe('done');
    }
    const stats = page.messages.filter((m): m is WireStats => m.type === '@honeybee.stats').at(-1);
    // The pool's counters as they were after close(): every peer gone or stopped.
    expect(stats?.full).toBe(true);
    expect(stats?.peers.filter((row) => row[1] !== 'stopped')).toEqual([]);
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
    const snapshots = (batches[1] ?? []).filter((m) => m.type === '@xstate.snapshot');
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({ snapshot: { value: 'odd' } });
    hub.close();
  });

  it('caps the replayed timeline at maxEvents', () => {
    const hub = new InspectionHub({ throttleMs: 10, maxEvents: 3, statsIntervalMs: 1000 });
    const root = createActor(counter);
    for (let at = 0; at < 10; at++) {
      const event = {
        type: '@xstate.action',
        actorRef: root,
        rootId: root.sessionId,
        action: { type: 'xstate.emit', params: { event: { type: 'connected', id: 'ws://a', at } } }
      };
      hub.inspect.next?.(event as InspectionEvent);
    }
    expect(eventsIn(hub.replay()).map((event) => event.at)).toEqual([7, 8, 9]);
    hub.close();
  });

  const emit = (hub: InspectionHub, root: ReturnType<typeof createActor>, event: Record<string, unknown>): void => {
    hub.inspect.next?.({
      type: '@xstate.action',
      actorRef: root,
      rootId: root.sessionId,
      action: { type: 'xstate.emit', params: { event } }
    } as unknown as InspectionEvent);
  };

  it("keeps each peer's last events apart from the global timeline: the last one in the replay, 20 on request", () => {
    const hub = new InspectionHub({ throttleMs: 10, maxEvents: 3, statsIntervalMs: 1000 });
    const root = createActor(counter);
    emit(hub, root, { type: 'dial_failed', id: 'ws://down', at: 1, attempt: 1, error: 'Unexpected server response: 503' });
    for (let at = 2; at < 40; at++) emit(hub, root, { type: at % 2 === 0 ? 'disconnected' : 'connected', id: 'ws://busy', at, code: 4000, cause: 'remote_close' });
    const replay = hub.replay();
    // The failure left the 3-event timeline long ago, but the page still learns why that peer is down.
    expect(eventsIn(replay).map((event) => event.id)).toEqual(['ws://busy', 'ws://busy', 'ws://busy']);
    const last = replay.filter((m): m is WireLastEvents => m.type === '@honeybee.last').flatMap((m) => m.events);
    expect(last).toEqual([
      expect.objectContaining({ id: 'ws://down', type: 'dial_failed', error: 'Unexpected server response: 503' }),
      expect.objectContaining({ id: 'ws://busy', at: 39 })
    ]);
    const sessionId = replay.find((m): m is WireLastEvents => m.type === '@honeybee.last')?.sessionId ?? '';
    const busy: WireHistory = hub.history(sessionId, 'ws://busy');
    expect(busy.events.map((event) => event.at)).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i));
    expect(hub.history(sessionId, 'ws://down').events).toHaveLength(1);
    expect(hub.history(sessionId, 'ws://unknown').events).toEqual([]);
    hub.close();
  });

  it("sends neither XState's events nor a snapshot that did not change", async () => {
    const ticking = createMachine({ id: 'ticking', initial: 'on', states: { on: { on: { tick: { actions: () => {} }, flip: 'off' } }, off: {} } });
    const hub = new InspectionHub({ throttleMs: 5, maxEvents: 10, statsIntervalMs: 1000 });
    const batches: WireMessage[][] = [];
    hub.attach((batch) => batches.push(JSON.parse(batch) as WireMessage[]));
    const actor = createActor(ticking, { inspect: hub.inspect }).start();
    await vi.waitFor(() => expect(batches.flat().some((m) => m.type === '@xstate.actor')).toBe(true));
    const sent = (): string[] =>
      batches
        .slice(1)
        .flat()
        .map((m) => m.type);
    for (let i = 0; i < 5; i++) {
      actor.send({ type: 'tick' });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    actor.send({ type: 'flip' });
    await vi.waitFor(() => expect(sent().filter((type) => type === '@xstate.snapshot')).toHaveLength(2));
    // The first snapshot after the start, then the flip: the five ticks changed nothing.
    expect(sent()).not.toContain('@xstate.event');
    expect(
      batches
        .flat()
        .filter((m) => m.type === '@xstate.snapshot')
        .at(-1)
    ).toMatchObject({ snapshot: { value: 'off' } });
    hub.close();
  });

  it('sends counters as deltas: changed peers, and traffic-only changes a share at a time', async () => {
    const peers: PeerStats[] = Array.from(
      { length: 600 },
      (_, i) =>
        ({
          id: `ws://127.0.0.1:1/peer/${i}`,
          state: 'connected',
          received: 0,
          sent: 0,
          restarts: 0,
          dialFailures: 0,
          drops: 0,
          attempt: 0,
          connectedSince: 1,
          paused: false,
          lastError: null
        }) as unknown as PeerStats
    );
    const stats = (): PoolStats => ({
      peerCount: peers.length,
      inboxDepth: 0,
      eventsDepth: 0,
      totalReceived: 0,
      totalSent: 0,
      inboxDropped: 0,
      eventsDropped: 0,
      peers: peers.map((peer) => ({ ...peer }))
    });
    const watched: WatchablePool = { id: 'fake', stats };
    const hub = new InspectionHub({ throttleMs: 1, maxEvents: 10, statsIntervalMs: 100 });
    hub.watch(watched);
    const received: WireStats[] = [];
    hub.attach((batch) => received.push(...(JSON.parse(batch) as WireMessage[]).filter((m): m is WireStats => m.type === '@honeybee.stats')));
    expect(received[0]).toMatchObject({ full: true });
    expect(received[0]?.peers).toHaveLength(600);
    await vi.waitFor(() => expect(received.length).toBeGreaterThan(1));
    expect(received[1]).toMatchObject({ full: false, peers: [] });
    // One peer fails: it goes out at the next tick, alone.
    Object.assign(peers[7] as PeerStats, { state: 'backoff', dialFailures: 1 });
    const before = received.length;
    await vi.waitFor(() => expect(received.length).toBeGreaterThan(before));
    expect(received.at(-1)?.peers.map((row) => [row[0], row[1], row[5]])).toEqual([['ws://127.0.0.1:1/peer/7', 'backoff', 1]]);
    // Every peer receives a message: 25 rows a tick (250 a second at 100 ms), until all have been sent.
    for (const peer of peers) peer.received += 1;
    const start = received.length;
    await vi.waitFor(() => expect(new Set(received.slice(start).flatMap((m) => m.peers.map((row) => row[0]))).size).toBe(600), { timeout: 5000 });
    const sizes = received.slice(start).map((m) => m.peers.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.ceil(250 / 10));
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
