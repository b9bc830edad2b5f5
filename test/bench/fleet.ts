/**
 * The contenders, each used the way its own documentation shows: many
 * clients of one kind, opened together, closed together. Client processes
 * use this for the lifecycle measures (connect time, memory, close, storm);
 * the per-message hot loops live in the measure scripts themselves.
 */
import WS from 'ws';
import type { PoolOptions, Transport, TransportListener, TransportSocket } from '../../src/node.ts';
import type { AnyActorRef } from 'xstate';

type Honeybee = typeof import('../../src/node.ts');

/**
 * The honeybee under test: the compiled package the runner built
 * (`HONEYBEE_ENTRY`), or the TypeScript sources when run by hand. The build
 * is what users run; the sources go through tsx, whose esbuild transform
 * wraps every closure in a `__name` call (≈ 4 KiB more heap per peer).
 */
export function loadHoneybee(): Promise<Honeybee> {
  const entry = process.env.HONEYBEE_ENTRY;
  return entry === undefined || entry === '' ? import('../../src/node.ts') : (import(entry) as Promise<Honeybee>);
}

type Machines = typeof import('../../machines/index.ts');

/** `honeybee-pool/machines` from the same build (or sources) as {@link loadHoneybee}. */
export function loadMachines(): Promise<Machines> {
  const entry = process.env.HONEYBEE_ENTRY;
  if (entry === undefined || entry === '') return import('../../machines/index.ts');
  return import(entry.replace(/src[\\/]node\.js$/, 'machines/index.js')) as Promise<Machines>;
}

type TestLinks = typeof import('../../src/testkit/test-link.ts');

/** The testkit's test link from the same build (or sources) as {@link loadHoneybee}. */
export function loadTestLink(): Promise<TestLinks> {
  const entry = process.env.HONEYBEE_ENTRY;
  if (entry === undefined || entry === '') return import('../../src/testkit/test-link.ts');
  return import(entry.replace(/node\.js$/, 'testkit/test-link.js')) as Promise<TestLinks>;
}

/**
 * `actor` and `actor-pool` are no library: raw `ws` plus the least an
 * actor-per-peer design runs (see {@link actorFleet}), the floor for
 * honeybee's lifecycle measures.
 */
export type Kind = 'raw' | 'honeybee' | 'partysocket' | 'nostr' | 'actor' | 'actor-pool';

/** Clients of one kind. */
export interface Fleet {
  /** Resolves once every client is open (`connected`). */
  readonly opened: Promise<void>;
  /** Closes every client and resolves once each has finished. */
  close(): Promise<void>;
}

/** Calls `onDial` each time a client starts a dial (first dial and every redial). */
export interface FleetOptions {
  onDial?: () => void;
  /** Called whenever a client reports that its connection dropped. */
  onDrop?: () => void;
  /** Called whenever a client reports `connected` / `open`. */
  onOpen?: () => void;
  /** Extra options per library (only the storm's quick mode uses them). */
  options?: { honeybee?: PoolOptions; partysocket?: { minReconnectionDelay?: number } };
}

const WS_OPTIONS = { perMessageDeflate: false } as const;

function allOf(count: number): { promise: Promise<void>; tick: () => void } {
  let left = count;
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  if (left === 0) resolve();
  return { promise, tick: () => --left === 0 && resolve() };
}

function closedOf(sockets: Iterable<WS | undefined>): Promise<void> {
  const waits: Array<Promise<void>> = [];
  for (const ws of sockets) {
    if (ws === undefined || ws.readyState === WS.CLOSED) continue;
    waits.push(new Promise((resolve) => ws.once('close', () => resolve())));
  }
  return Promise.all(waits).then(() => undefined);
}

function rawFleet(urls: string[], hooks: FleetOptions): Fleet & { readonly sockets: readonly WS[] } {
  const open = allOf(urls.length);
  const sockets = urls.map((url) => {
    hooks.onDial?.();
    const ws = new WS(url, WS_OPTIONS);
    ws.on('open', () => {
      hooks.onOpen?.();
      open.tick();
    });
    ws.on('error', () => {});
    return ws;
  });
  return {
    opened: open.promise,
    sockets,
    close: () => {
      const closed = closedOf(sockets);
      for (const ws of sockets) ws.close();
      return closed;
    }
  };
}

/** A `ws` class that reports every construction: partysocket dials through it. */
function countingWs(onDial: (() => void) | undefined): typeof WS {
  if (onDial === undefined) return WS;
  return class CountingWebSocket extends WS {
    constructor(...args: ConstructorParameters<typeof WS>) {
      onDial?.();
      super(...args);
    }
  } as typeof WS;
}

type Internals = Pick<typeof import('../../src/xstate-internals.ts'), 'indexScheduler'> & typeof import('../../src/timer-wheel.ts');

/** The pool's scheduler and clock from the same build (or sources) as {@link loadHoneybee}. */
async function loadSchedulers(): Promise<Internals> {
  const entry = process.env.HONEYBEE_ENTRY;
  const [scheduler, wheel] =
    entry === undefined || entry === ''
      ? await Promise.all([import('../../src/xstate-internals.ts'), import('../../src/timer-wheel.ts')])
      : await Promise.all([
          // Builds before the internals moved to one file had the scheduler in indexed-scheduler.js.
          import(entry.replace(/node\.js$/, 'xstate-internals.js')).catch(() => import(entry.replace(/node\.js$/, 'indexed-scheduler.js'))),
          import(entry.replace(/node\.js$/, 'timer-wheel.js'))
        ]);
  return { ...scheduler, ...wheel } as Internals;
}

/** The floor's actors without sockets: a parent, and one started peer actor per `spawn`. */
export interface FloorActors {
  /** Creates and starts the next peer's actor. */
  spawn(): AnyActorRef;
}

/**
 * The least an actor-per-peer design runs: one bare XState actor per peer (a
 * handshake timer while dialing, a heartbeat timer while connected,
 * `connected` and `disconnected` emitted; `open`, `close` and the close reply
 * `closed` are its three events), under a parent actor on the same clock and
 * scheduler as a honeybee pool. With `pool`, the parent is a machine that
 * re-emits every peer's `connected` / `disconnected` (one transition each),
 * which is what the spec's `pool.actor.on('connected', …)` costs at the least.
 * No link, no counters, no registry, no logger: whatever honeybee costs beyond
 * these actors is its own, not XState's.
 */
export async function floorActors(pool: boolean, peerLogic?: PeerLogic): Promise<FloorActors> {
  const { createActor, emit, fromCallback, setup } = await import('xstate');
  const { TimerWheel, indexScheduler } = await loadSchedulers();
  const peer = setup({}).createMachine({
    initial: 'dialing',
    states: {
      dialing: { after: { 10_000: 'stopped' }, on: { open: 'connected', close: 'stopped' } },
      connected: {
        entry: emit({ type: 'connected' }),
        after: { 20_000: { target: 'connected', reenter: true } },
        on: { close: { target: 'closing', actions: emit({ type: 'disconnected' }) } }
      },
      closing: { after: { 1000: 'stopped' }, on: { closed: 'stopped' } },
      stopped: { type: 'final' }
    }
  });
  type Forward = { type: 'forward'; event: { type: 'connected' | 'disconnected'; id: string } };
  const parentLogic = setup({ types: { events: {} as Forward } }).createMachine({
    on: { forward: { actions: emit(({ event }) => event.event) } }
  });
  // Without `pool` the parent is a callback actor: its children's ends cost it no transition.
  const parent = createActor(pool ? parentLogic : fromCallback(() => () => {}), { clock: new TimerWheel() });
  indexScheduler(parent.system);
  parent.start();
  let next = 0;
  return {
    spawn() {
      const actor: AnyActorRef = peerLogic === undefined ? createActor(peer, { parent, id: `p${next++}` }) : peerLogic.create(parent as AnyActorRef, next++);
      if (pool) actor.on('*', (event: { type: string }) => (parent as AnyActorRef).send({ type: 'forward', event: { type: event.type as 'connected', id: actor.id } }));
      actor.start();
      return actor;
    }
  };
}

/** Another peer actor under the floor's parent (see {@link machineActors}). */
interface PeerLogic {
  create(parent: AnyActorRef, index: number): AnyActorRef;
}

type Report = (event: { type: string; code?: number; reason?: string; cause?: string }) => void;

/**
 * A link that only reports: `open()`, and a close reply a microtask after
 * `close()`, as the cue transport's sockets do. A class, so a link is one
 * object and no closures (tsx gives every closure of this file a `name`).
 */
export class ReportingLink {
  lastActivityAt = 0;
  paused = false;
  tap = undefined;
  #report: Report | undefined = undefined;

  dial(report: Report): void {
    this.#report = report;
  }

  open(): void {
    this.#report?.({ type: 'socket.open' });
  }

  close(): void {
    queueMicrotask(() => this.#report?.({ type: 'socket.closed', code: 1000, reason: '', cause: 'local_stop' }));
  }

  ping(): void {}

  release(): void {
    this.#report = undefined;
  }

  sendFrame(): boolean {
    return false;
  }
}

/**
 * honeybee's default worker machine alone, under the floor's parent (same
 * clock, scheduler and re-emitting pool machine), with the input a pool
 * gives it (id, a link, the default timing) and its system id: no registry,
 * no façade, no PeerLink, no transport. Between the floor and a pool, it
 * says how much of honeybee's cost is its machine and how much the rest.
 * Each spawned actor's link is in `links`, in spawn order.
 */
export async function machineActors(): Promise<FloorActors & { links: ReportingLink[] }> {
  const [{ createActor }, { workerMachine }, { DEFAULTS }] = await Promise.all([import('xstate'), loadMachines(), loadOptions()]);
  const links: ReportingLink[] = [];
  const timing = { ...DEFAULTS, retry: { ...DEFAULTS.retry } };
  const actors = await floorActors(true, {
    create(parent, index) {
      const id = `ws://127.0.0.1:1/p${index}`;
      const link = new ReportingLink();
      links.push(link);
      return createActor(workerMachine, { parent, id, systemId: id, input: { id, link: link as never, timing: timing as never } });
    }
  });
  return { ...actors, links };
}

type Options = typeof import('../../src/options.ts');

/** The options module (its DEFAULTS) from the same build (or sources) as {@link loadHoneybee}. */
function loadOptions(): Promise<Options> {
  const entry = process.env.HONEYBEE_ENTRY;
  if (entry === undefined || entry === '') return import('../../src/options.ts');
  return import(entry.replace(/node\.js$/, 'options.js')) as Promise<Options>;
}

/** Raw `ws` plus {@link floorActors}: the floor of the lifecycle measures. */
async function actorFleet(urls: string[], hooks: FleetOptions, pool: boolean): Promise<Fleet> {
  const floor = await floorActors(pool);
  const raw = rawFleet(urls, hooks);
  const open = allOf(urls.length);
  const actors = urls.map(() => floor.spawn());
  raw.sockets.forEach((ws, i) => {
    const actor = actors[i]!;
    ws.once('open', () => {
      actor.send({ type: 'open' });
      open.tick();
    });
    ws.once('close', () => actor.send({ type: 'closed' }));
  });
  return {
    opened: open.promise,
    close: () => {
      for (const actor of actors) actor.send({ type: 'close' });
      return raw.close();
    }
  };
}

// Each library is imported only by the process that measures it, so no client
// pays for loading (or carries the heap of) another contender.
async function partysocketFleet(urls: string[], hooks: FleetOptions): Promise<Fleet> {
  const { default: ReconnectingWebSocket } = await import('partysocket/ws');
  const open = allOf(urls.length);
  const WebSocket = countingWs(hooks.onDial);
  const sockets = urls.map((url) => {
    const rws = new ReconnectingWebSocket(url, [], { WebSocket, ...hooks.options?.partysocket });
    let first = true;
    rws.addEventListener('open', () => {
      hooks.onOpen?.();
      if (first) open.tick();
      first = false;
    });
    rws.addEventListener('close', () => hooks.onDrop?.());
    return rws;
  });
  return {
    opened: open.promise,
    close: () => {
      // partysocket reports `close` at once; the socket underneath finishes later.
      const inner = sockets.map((rws) => (rws as unknown as { _ws?: WS })._ws);
      const closed = closedOf(inner);
      for (const rws of sockets) rws.close();
      return closed;
    }
  };
}

async function nostrFleet(urls: string[], hooks: FleetOptions): Promise<Fleet> {
  const { AbstractRelay } = await import('nostr-tools/abstract-relay');
  const relays = urls.map(
    (url) =>
      new AbstractRelay(url, {
        verifyEvent: () => true,
        websocketImplementation: countingWs(hooks.onDial) as unknown as typeof WebSocket
      })
  );
  const opened = Promise.all(relays.map((relay) => relay.connect().then(() => hooks.onOpen?.()))).then(() => undefined);
  return {
    opened,
    close: () => {
      // relay.close() does not report completion; wait on the socket it closes.
      const closed = closedOf(relays.map((relay) => (relay as unknown as { ws?: WS }).ws));
      for (const relay of relays) relay.close();
      return closed;
    }
  };
}

/** A honeybee pool with one peer per URL. */
async function honeybeeFleet(urls: string[], hooks: FleetOptions, options: PoolOptions = {}): Promise<Fleet> {
  const { createPool, wsTransport } = await loadHoneybee();
  const open = allOf(urls.length);
  const onDial = hooks.onDial;
  const transport: Transport | undefined =
    onDial === undefined
      ? undefined
      : {
          ...wsTransport,
          open: (url, openOptions, listener) => {
            onDial();
            return wsTransport.open(url, openOptions, listener);
          }
        };
  const pool = createPool(transport === undefined ? options : { ...options, transport });
  const seen = new Set<string>();
  pool.actor.on('connected', (event) => {
    hooks.onOpen?.();
    if (seen.has(event.id)) return;
    seen.add(event.id);
    open.tick();
  });
  pool.actor.on('disconnected', () => hooks.onDrop?.());
  for (const url of urls) pool.connect(url);
  return { opened: open.promise, close: () => pool.close() };
}

/**
 * Loads the library of `kind` ahead of the measure, so module loading and the
 * heap of its code count neither in connect time nor in memory per peer
 * (the same for every contender). `openFleet` reuses the loaded modules.
 */
export async function preload(kind: Kind): Promise<void> {
  if (kind === 'honeybee') await loadHoneybee();
  else if (kind === 'partysocket') await import('partysocket/ws');
  else if (kind === 'nostr') await import('nostr-tools/abstract-relay');
  else if (kind === 'actor' || kind === 'actor-pool') await Promise.all([import('xstate'), loadSchedulers()]);
}

/** Opens one client of `kind` per URL. */
export async function openFleet(kind: Kind, urls: string[], hooks: FleetOptions = {}): Promise<Fleet> {
  switch (kind) {
    case 'raw':
      return rawFleet(urls, hooks);
    case 'honeybee':
      return honeybeeFleet(urls, hooks, hooks.options?.honeybee);
    case 'partysocket':
      return partysocketFleet(urls, hooks);
    case 'nostr':
      return nostrFleet(urls, hooks);
    case 'actor':
      return actorFleet(urls, hooks, false);
    case 'actor-pool':
      return actorFleet(urls, hooks, true);
  }
}

/**
 * One socket of {@link cueTransport}: CONNECTING until cued, then open until
 * closed. A class, so a socket is one object with no closures (this file
 * runs through tsx, which gives every closure a `name` property of its own:
 * a per-peer cost no user pays, which would count as honeybee's heap).
 */
class CueSocket implements TransportSocket {
  readonly bufferedAmount = 0;
  #open = false;

  constructor(readonly listener: TransportListener) {}

  get isOpen(): boolean {
    return this.#open;
  }

  cue(): void {
    this.#open = true;
    this.listener.onOpen();
  }

  send(data: string | Uint8Array | ArrayBuffer): number {
    return typeof data === 'string' ? data.length : data.byteLength;
  }

  ping(): void {}

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    queueMicrotask(() => this.listener.onClose(1000, '', 'local_stop'));
  }

  pause(): void {}

  resume(): void {}

  release(): void {
    this.#open = false;
  }
}

/**
 * A transport with no network, for the measures of honeybee's own cost: its
 * sockets hang in CONNECTING until `openAll()` opens every one dialed so far,
 * and an open socket answers `close()` on the next microtask, as a quick peer would.
 */
export function cueTransport(): { transport: Transport; readonly dialed: number; openAll(): void } {
  const sockets: CueSocket[] = [];
  const transport: Transport = {
    name: 'cue',
    canPing: true,
    canPause: true,
    canSetHeaders: true,
    canSetTls: true,
    open(_url, _options, listener) {
      const socket = new CueSocket(listener);
      sockets.push(socket);
      return socket;
    }
  };
  return {
    transport,
    get dialed() {
      return sockets.length;
    },
    openAll() {
      for (const socket of sockets) socket.cue();
    }
  };
}

/** Two full collections, as `--expose-gc` allows; a no-op without it. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

/** Prints the one JSON line the runner reads. */
export function emit(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** `n` distinct URLs on the local firehose (distinct paths keep pools from refusing duplicates). */
export function urlsFor(port: number, count: number, query = ''): string[] {
  return Array.from({ length: count }, (_, i) => `ws://127.0.0.1:${port}/p${i}${query === '' ? '' : `?${query}`}`);
}
