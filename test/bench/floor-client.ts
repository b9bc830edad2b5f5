/**
 * What one XState actor per peer costs at the least, without any socket:
 * `count` actors of one kind are created and started under a parent, each
 * gets one event, and the heap they hold is sampled (two `gc()`, the sample
 * taken before any actor existed subtracted).
 *
 * Kinds:
 * - `minimal`: a two-state machine with one delayed transition, the least an
 *   actor-per-peer design can run (a peer needs at least one timer);
 * - `minimal-invoke`: the same plus one invoked callback actor, as a socket
 *   adapter would be;
 * - `worker`: honeybee's worker machine with a test link whose socket opens
 *   when told; the event is `socket.open`, so the actor ends `connected` with
 *   its heartbeat armed, as an idle peer in the pool is.
 *
 * Run with `--expose-gc`.
 *
 * usage: tsx floor-client.ts <kind> <count>
 */
import { createActor, createMachine, fromCallback, setup, type AnyActorLogic, type AnyActorRef } from 'xstate';
import type { TestLink } from '../../src/testkit/test-link.ts';
import { collectGarbage, emit, loadMachines, loadTestLink } from './fleet.ts';

const [kind = 'minimal', countText = '10000'] = process.argv.slice(2);
const count = Number(countText);
if ((globalThis as { gc?: unknown }).gc === undefined) throw new Error('run with --expose-gc');

const idle = fromCallback(() => () => {});
const twoStates = {
  initial: 'a',
  states: { a: { after: { 60_000: 'a' }, on: { go: 'b' } }, b: { after: { 60_000: 'b' } } }
} as const;

/** The logic to measure, the input of actor `i`, the event each actor gets, and how to deliver it. */
async function subject(): Promise<{ logic: AnyActorLogic; input: (i: number) => unknown; poke: (actor: AnyActorRef) => void }> {
  if (kind === 'minimal') return { logic: createMachine(twoStates), input: () => undefined, poke: (a) => a.send({ type: 'go' }) };
  if (kind === 'minimal-invoke') {
    const logic = setup({ actors: { idle } }).createMachine({ ...twoStates, invoke: { src: 'idle' } });
    return { logic, input: () => undefined, poke: (a) => a.send({ type: 'go' }) };
  }
  if (kind !== 'worker') throw new Error(`unknown kind ${kind}`);
  const { workerMachine } = await loadMachines();
  const { createTestLink } = await loadTestLink();
  // Each worker's socket opens when the worker is poked (through its test link).
  const links = new Map<string, TestLink>();
  const timing = {
    reconnectDelay: 2000,
    minUptime: 5000,
    keepaliveTimeout: 60_000,
    pingInterval: 20_000,
    handshakeTimeout: 10_000,
    closeTimeout: 1000,
    retry: { maxRetries: 0, initialDelay: 1000, maxDelay: 30_000, jitter: 0.5 }
  };
  return {
    logic: workerMachine as AnyActorLogic,
    input: (i) => {
      const id = `ws://127.0.0.1/p${i}`;
      const link = createTestLink(0);
      links.set(id, link);
      return { id, link, timing };
    },
    poke: (actor) => links.get(actor.getSnapshot().context.id)?.dials.at(-1)?.open()
  };
}

const { logic, input, poke } = await subject();
const parent = createActor(idle).start();
// A throwaway batch warms the JIT up, so the measured one is not charged for compilation.
for (const size of [Math.min(1000, count), count]) {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  let started = performance.now();
  const actors: AnyActorRef[] = [];
  for (let i = 0; i < size; i++) actors.push(createActor(logic, { parent, id: `p${i}`, input: input(i) }).start());
  const createUs = ((performance.now() - started) * 1000) / size;
  started = performance.now();
  for (const actor of actors) poke(actor);
  const eventUs = ((performance.now() - started) * 1000) / size;
  collectGarbage();
  const heapPerActor = (process.memoryUsage().heapUsed - before) / size;
  if (size === count) emit({ kind, count, createUs, eventUs, heapPerActor });
  // The warm-up batch stays alive (its timers hold it), so it is part of the baseline of the next.
}
process.exit(0);
