import { createActor, SimulatedClock, type AnyActorLogic, type AnyStateMachine, type Actor } from 'xstate';
import type { WorkerEmitted } from '../../machines/worker-events.ts';
import { createTestLink, type TestLink } from '../../src/testkit/test-link.ts';
import { createFakeSocket, makeTiming, T0, type FakeSocket, type TimingOverrides } from './fake-socket.ts';

/** A custom worker machine on a simulated clock, with a fake socket and a test link. */
export interface ExampleHarness<TLogic extends AnyStateMachine> {
  actor: Actor<TLogic>;
  clock: SimulatedClock;
  link: TestLink;
  fake: FakeSocket;
  events: WorkerEmitted[];
  errors: unknown[];
  /** Advances the simulated clock 1 ms at a time. */
  advance(ms: number): void;
  tags(): string[];
  kinds(): string[];
}

/**
 * Starts `machine` with a fake socket on its link and any actors from
 * `actors`; `input` adds machine-specific input fields.
 */
export function startExample<TLogic extends AnyStateMachine>(
  machine: TLogic,
  options: { input?: object; timing?: TimingOverrides; actors?: Record<string, AnyActorLogic> } = {}
): ExampleHarness<TLogic> {
  const clock = new SimulatedClock();
  clock.set(T0);
  const link = createTestLink(T0, () => clock.now());
  const fake = createFakeSocket(link, { now: () => clock.now() });
  const logic = (options.actors === undefined ? machine : machine.provide({ actors: options.actors } as never)) as TLogic;
  const actor = createActor(logic, {
    clock,
    input: { ...options.input, id: 'ws://127.0.0.1:7000', link, timing: makeTiming(options.timing), now: () => clock.now(), random: () => 0.5 }
  } as never) as Actor<TLogic>;
  const events: WorkerEmitted[] = [];
  const errors: unknown[] = [];
  // The machine's `worker.ended` is for its host, not one of the lifecycle events these tests read.
  actor.on('*', (event: WorkerEmitted | { type: 'worker.ended' }) => void (event.type === 'worker.ended' || events.push(event)));
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  return {
    actor,
    clock,
    link,
    fake,
    events,
    errors,
    advance(ms) {
      clock.increment(0);
      for (let i = 0; i < ms; i += 1) clock.increment(1);
    },
    tags: () => [...(actor.getSnapshot() as { tags: Set<string> }).tags].sort(),
    kinds: () => events.map((event) => event.type)
  };
}

/** Lets promise-based actors (a signer) settle. */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}
