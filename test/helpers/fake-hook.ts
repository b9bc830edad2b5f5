import { fromCallback, type CallbackActorLogic, type EventObject } from 'xstate';
import type { HandshakeEvent } from '../../machines/worker-events.ts';
import type { SocketInput } from '../../machines/worker-machine.ts';

/** One started instance of a fake hook actor (`handshake` or `connection`). */
export interface FakeHookInstance {
  readonly input: SocketInput;
  /** True until XState runs the instance's cleanup or it crashes. */
  readonly live: boolean;
  /** Sends the worker an event, as a real hook would. */
  report(event: HandshakeEvent): void;
  /** Makes the actor throw now; XState reports `xstate.error.actor.<id>` to the worker. */
  crash(): void;
}

/** A controllable stand-in for a hook actor of the worker machine. */
export interface FakeHook {
  readonly logic: CallbackActorLogic<EventObject, SocketInput>;
  readonly instances: readonly FakeHookInstance[];
  /** The most recently started instance (throws if none was started). */
  readonly current: FakeHookInstance;
  /** How many instances are live right now. */
  readonly live: number;
}

const CRASH = 'fake.crash';

/** Creates a fake hook actor whose instances the test drives by hand. */
export function createFakeHook(): FakeHook {
  const instances: FakeHookInstance[] = [];
  const logic = fromCallback<EventObject, SocketInput>(({ input, sendBack, receive, self }) => {
    let live = true;
    instances.push({
      input,
      get live() {
        return live;
      },
      report: (event) => sendBack(event),
      // Not a worker event: only a way to make the actor throw from inside.
      crash: () => self.send({ type: CRASH })
    });
    receive((event) => {
      if (event.type !== CRASH) return;
      // XState never runs the cleanup of a callback actor that threw, so mark it here.
      live = false;
      throw new Error('fake hook crashed');
    });
    return () => {
      live = false;
    };
  });
  return {
    logic,
    instances,
    get current() {
      const last = instances.at(-1);
      if (last === undefined) throw new Error('no fake hook was started yet');
      return last;
    },
    get live() {
      return instances.filter((instance) => instance.live).length;
    }
  };
}
