import { describe, expect, it } from 'vitest';
import { createActor, sendTo, setup, SimulatedClock, type AnyActorRef } from 'xstate';
import { indexScheduler } from '../src/indexed-scheduler.ts';

type AnyActorSystem = AnyActorRef['system'];

// A peer-like child: one `after` timer, a delayed send without an id on `ping`,
// and `halt` to finish (a child cannot be stopped from outside; it ends itself).
const child = setup({}).createMachine({
  initial: 'waiting',
  on: {
    ping: { actions: sendTo(({ self }) => self, { type: 'pong' }, { delay: 50 }) },
    halt: '.halted'
  },
  states: { waiting: { after: { 100: 'fired' } }, fired: { type: 'final' }, halted: { type: 'final' } }
});
const halt = (actor: AnyActorRef): void => actor.send({ type: 'halt' });
// The same without the `after` timer: it lives until halted.
const pinger = setup({}).createMachine({
  initial: 'running',
  on: { ping: { actions: sendTo(({ self }) => self, { type: 'pong' }, { delay: 50 }) }, halt: '.halted' },
  states: { running: {}, halted: { type: 'final' } }
});
const root = setup({}).createMachine({});

function system(clock: SimulatedClock): { sys: AnyActorSystem; spawn(logic?: typeof child | typeof pinger): AnyActorRef } {
  const rootActor = createActor(root, { clock });
  const sys = rootActor.system;
  expect(indexScheduler(sys)).toBe(true);
  rootActor.start();
  return {
    sys,
    spawn: (logic = child) => {
      const actor = createActor(logic, { parent: rootActor });
      actor.start();
      return actor;
    }
  };
}

function pending(sys: AnyActorSystem): Record<string, unknown> {
  return (sys as unknown as { _snapshot: { _scheduledEvents: Record<string, unknown> } })._snapshot._scheduledEvents;
}

describe('indexScheduler', () => {
  describe('stopping an actor', () => {
    it('cancels its own delayed events and leaves every other actor’s to fire', () => {
      const clock = new SimulatedClock();
      const { sys, spawn } = system(clock);
      const actors = Array.from({ length: 5 }, () => spawn());
      actors[2]!.send({ type: 'ping' });
      halt(actors[2]!);
      expect(Object.keys(pending(sys))).toHaveLength(4);
      clock.increment(100);
      expect(actors.map((actor) => actor.getSnapshot().value)).toEqual(['fired', 'fired', 'halted', 'fired', 'fired']);
      expect(Object.keys(pending(sys))).toHaveLength(0);
    });

    it('never walks the table of every pending event', () => {
      const clock = new SimulatedClock();
      const { sys, spawn } = system(clock);
      const actors = Array.from({ length: 50 }, () => spawn());
      let walks = 0;
      const table = (sys as unknown as { _snapshot: { _scheduledEvents: Record<string, unknown> } })._snapshot;
      table._scheduledEvents = new Proxy(table._scheduledEvents, {
        ownKeys: (target) => {
          walks += 1;
          return Reflect.ownKeys(target);
        }
      });
      for (const actor of actors) halt(actor);
      expect(walks).toBe(0);
      expect(Object.keys(pending(sys))).toHaveLength(0);
    });

    it('cancels a delayed send that was given no id', () => {
      const clock = new SimulatedClock();
      const { sys, spawn } = system(clock);
      const actor = spawn();
      const seen: string[] = [];
      actor.subscribe({ next: () => seen.push('snapshot') });
      actor.send({ type: 'ping' });
      expect(Object.keys(pending(sys))).toHaveLength(2);
      halt(actor);
      expect(Object.keys(pending(sys))).toHaveLength(0);
      clock.increment(60);
      expect(seen).toHaveLength(2); // the ping and the halt; the pong never came
    });
  });

  describe('a long-lived actor', () => {
    it('still cancels what is pending after hundreds of delayed sends have fired', () => {
      const clock = new SimulatedClock();
      const { sys, spawn } = system(clock);
      const actor = spawn(pinger);
      for (let i = 0; i < 300; i++) {
        actor.send({ type: 'ping' });
        clock.increment(50);
      }
      actor.send({ type: 'ping' });
      expect(Object.keys(pending(sys))).toHaveLength(1);
      halt(actor);
      expect(Object.keys(pending(sys))).toHaveLength(0);
    });
  });

  it('leaves a scheduler of another shape alone', () => {
    expect(indexScheduler({} as AnyActorSystem)).toBe(false);
  });
});
