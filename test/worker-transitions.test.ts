import { describe, expect, it } from 'vitest';
import { __unsafe_getAllOwnEventDescriptors as ownEventTypes, type ActorLogic, type AnyMachineSnapshot, type EventObject } from 'xstate';
import { getAdjacencyMap, getStateNodes, type AdjacencyValue } from 'xstate/graph';
import { raisedType } from '../src/diagrams/public-view.ts';
import { createTestLink } from '../src/testkit/test-link.ts';
import { workerMachine, type WorkerInput } from '../machines/worker-machine.ts';
import { makeTiming, startWorker, type TimingOverrides, type WorkerHarness } from './helpers/fake-socket.ts';

// Model-based coverage of the worker chart: walk every (state, event) edge of
// the adjacency map, replay the shortest path to its source on a real actor
// (fake socket, simulated clock), fire the edge, and check where it lands.
//
// The traversal is pure, so it cannot see time or the link. Two things are
// modelled explicitly instead: the keepalive timer's guard outcome is a field
// of the event (`expired`), and `minUptime` is out of reach so every
// connection end counts as a flap, as it does for the constant `now` below.

type ModelEvent = EventObject & { expired?: boolean };

interface Config {
  name: string;
  timing: TimingOverrides;
  /** Turns the `hasHandshake` guard on. */
  handshake?: boolean;
  /** The `hasConnectionHook` guard (on unless `false`, so the hook's edges are explored). */
  connectionHook?: boolean;
}

const CONFIGS: Config[] = [
  {
    name: 'ping and keepalive on',
    timing: { pingInterval: 100, keepaliveTimeout: 200, minUptime: 1e9, retry: { maxRetries: 2 } }
  },
  { name: 'ping and keepalive off', timing: { pingInterval: 0, keepaliveTimeout: 0, minUptime: 1e9, retry: { maxRetries: 2 } } },
  {
    name: 'no connection hook (the default)',
    timing: { pingInterval: 100, keepaliveTimeout: 200, minUptime: 1e9, retry: { maxRetries: 2 } },
    connectionHook: false
  },
  {
    name: 'handshake on',
    timing: { pingInterval: 0, keepaliveTimeout: 0, minUptime: 1e9, retry: { maxRetries: 2 } },
    handshake: true
  }
];

const MAX_ATTEMPT = 4;

const serialize = (snapshot: AnyMachineSnapshot): string => JSON.stringify([snapshot.value, snapshot.context.attempt]);

// Typed loosely: the graph helpers' types do not accept a machine with typed emitted events.
const modelMachine = (config: Config): ActorLogic<AnyMachineSnapshot, ModelEvent, WorkerInput> =>
  workerMachine.provide({
    guards: {
      // The model decides expiry, but only where a keepalive runs at all.
      keepaliveExpired: ({ context, event }) => (event as ModelEvent).expired === true && context.timing.keepaliveTimeout > 0,
      hasHandshake: () => config.handshake === true,
      hasConnectionHook: () => config.connectionHook !== false
    }
  }) as unknown as ActorLogic<AnyMachineSnapshot, ModelEvent, WorkerInput>;

// Events the machine raises itself (`worker.redial`, after `worker.reconnect` in `connected`) are
// never sent from outside: the walk reaches their edges through the events that raise them.
const SELF_EVENTS = new Set(Object.keys(workerMachine.implementations.actions).flatMap((action) => raisedType(workerMachine, action) ?? []));

function modelEvents(snapshot: AnyMachineSnapshot): ModelEvent[] {
  return (ownEventTypes(snapshot) as string[]).flatMap((type): ModelEvent[] => {
    if (SELF_EVENTS.has(type)) return [];
    if (!type.includes('.heartbeatDelay.')) return [{ type }];
    return snapshot.context.timing.keepaliveTimeout > 0
      ? [
          { type, expired: true },
          { type, expired: false }
        ]
      : [{ type, expired: false }];
  });
}

interface Edge {
  name: string;
  path: ModelEvent[];
  event: ModelEvent;
  target: string;
}

function explore(config: Config) {
  const adjacency = getAdjacencyMap(modelMachine(config), {
    input: {
      id: 'ws://127.0.0.1:7000',
      link: createTestLink(0),
      timing: makeTiming(config.timing),
      now: () => 0,
      random: () => 0.5
    },
    serializeState: serialize,
    events: modelEvents,
    filterEvents: (snapshot) => snapshot.status === 'active',
    stopWhen: (snapshot) => snapshot.context.attempt >= MAX_ATTEMPT,
    limit: 10_000
  }) as Record<string, AdjacencyValue<AnyMachineSnapshot, ModelEvent>>;
  // Shortest event path to every state, breadth first from the initial one.
  const initial = Object.keys(adjacency)[0] as string;
  const paths = new Map<string, ModelEvent[]>([[initial, []]]);
  const queue = [initial];
  for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
    for (const { event, state } of Object.values(adjacency[key]?.transitions ?? {})) {
      const next = serialize(state);
      if (paths.has(next)) continue;
      paths.set(next, [...(paths.get(key) ?? []), event]);
      queue.push(next);
    }
  }
  const edges: Edge[] = [];
  for (const [source, { transitions }] of Object.entries(adjacency)) {
    for (const { event, state } of Object.values(transitions)) {
      const label = event.expired === undefined ? event.type : `${event.type} (expired: ${event.expired})`;
      const target = serialize(state);
      edges.push({ name: `${source} --${label}--> ${target}`, path: paths.get(source) ?? [], event, target });
    }
  }
  return { adjacency, edges, paths };
}

const SESSION_TAGS = ['dialing', 'connected', 'closing'];

/** The actors a state runs: each hook exactly while its state lasts (the socket belongs to the link, not to an actor). */
function expectedChildren(state: { hasTag(tag: string): boolean }, config: Config): string[] {
  if (!SESSION_TAGS.some((tag) => state.hasTag(tag))) return [];
  const hook = state.hasTag('connected') && config.connectionHook !== false;
  return [...(state.hasTag('handshaking') ? ['handshake'] : []), ...(hook ? ['connection'] : [])];
}

/** The socket invariant (exactly one live socket inside the session, none outside), and the hooks'. */
function checkSockets(w: WorkerHarness, config: Config): void {
  const snapshot = w.actor.getSnapshot();
  const inSession = SESSION_TAGS.some((tag) => snapshot.hasTag(tag as never));
  expect(w.fake.live).toBe(inSession ? 1 : 0);
  expect(w.fake.maxLive).toBeLessThanOrEqual(1);
  expect(w.hooks.handshake.live).toBe(snapshot.hasTag('handshaking') ? 1 : 0);
  expect(w.hooks.connection.live).toBe(snapshot.hasTag('connected') && config.connectionHook !== false ? 1 : 0);
}

/** Steps the clock 1 ms at a time until `done()`, checking the socket invariant at every step. */
function stepUntil(w: WorkerHarness, limit: number, done: () => boolean, onStep?: () => void): void {
  w.clock.increment(0);
  for (let ms = 0; !done(); ms += 1) {
    if (ms >= limit) throw new Error(`nothing happened within ${limit} ms`);
    onStep?.();
    w.clock.increment(1);
    expect(w.fake.live).toBeLessThanOrEqual(1);
  }
}

/** Makes the real actor take the model event: socket events via the fake, timers via the clock. */
function fire(w: WorkerHarness, event: ModelEvent): void {
  const before = serialize(w.actor.getSnapshot());
  const changed = (): boolean => serialize(w.actor.getSnapshot()) !== before;
  const fresh = (): void => {
    w.link.lastActivityAt = w.clock.now();
  };
  const { timing } = w.actor.getSnapshot().context;
  switch (event.type) {
    case 'socket.open':
      return w.fake.current.open();
    case 'socket.failed':
      return w.fake.current.fail('refused');
    case 'socket.closed':
      return w.fake.current.close(1006, '', 'network_error');
    case 'handshake.done':
      return w.hooks.handshake.current.report({ type: 'handshake.done' });
    case 'handshake.failed':
      return w.hooks.handshake.current.report({ type: 'handshake.failed', error: 'refused' });
    case 'xstate.error.actor.handshake':
      return w.hooks.handshake.current.crash();
    case 'xstate.error.actor.connection':
      return w.hooks.connection.current.crash();
    case 'worker.stop':
    case 'worker.reconnect':
      w.actor.send({ type: event.type });
      return;
  }
  const delay = event.type.split('.')[2];
  if (delay === 'heartbeatDelay' && event.expired === false) {
    // With fresh activity the heartbeat only re-arms (and pings when one is due):
    // within one keepalive timeout (or ping interval) it must have fired and come back.
    const span = Math.max(timing.keepaliveTimeout, Math.ceil(timing.pingInterval * 1.1)) + 1;
    let elapsed = 0;
    stepUntil(w, span + 1, () => elapsed++ > span, fresh);
  } else {
    stepUntil(w, 100_000, changed);
  }
}

describe.each(CONFIGS)('worker transitions ($name)', (config) => {
  const { adjacency, edges } = explore(config);

  it('gives every explored state each hook actor only in its state, and no other child (the socket belongs to the link)', () => {
    for (const { state } of Object.values(adjacency)) {
      expect(Object.keys(state.children).sort()).toEqual(expectedChildren(state, config).sort());
    }
  });

  for (const { name, path, event, target } of edges) {
    it(name, () => {
      const w = startWorker({
        timing: config.timing,
        random: () => 0.5,
        handshake: config.handshake === true,
        connectionHook: config.connectionHook !== false
      });
      for (const step of [...path, event]) {
        fire(w, step);
        checkSockets(w, config);
        expect(w.errors).toEqual([]);
      }
      expect(serialize(w.actor.getSnapshot())).toBe(target);
      expect(w.fake.allStoppedCleanedUp()).toBe(true);
    });
  }
});

describe('worker transitions (coverage)', () => {
  it('reaches every stable state node of the chart in one of the configurations', () => {
    const reached = new Set<string>();
    for (const config of CONFIGS) {
      for (const { state } of Object.values(explore(config).adjacency)) {
        for (const node of state._nodes) reached.add(node.id);
      }
    }
    // `failed` and the `choosing` states are transient (eventless transitions only).
    const transient = [
      'worker.failed',
      'worker.session.connected.ping.choosing',
      'worker.session.connected.keepalive.choosing',
      'worker.session.connected.hook.choosing'
    ];
    const stable = getStateNodes(workerMachine.root)
      .map((node) => node.id)
      .filter((id) => !transient.includes(id));
    expect([...reached].filter((id) => id !== 'worker').sort()).toEqual(stable.sort());
  });
});
