import type { WorkerLink } from './worker-link.ts';

/**
 * Looks at one inbound frame before the inbox does. Returns `true` to consume
 * it: a consumed frame reaches neither the inbox nor the `received` counter.
 */
export type FrameTap = (data: string | Uint8Array) => boolean;

/**
 * A {@link WorkerLink} that also lets a machine speak its own protocol on the
 * socket: the application-level handshakes and probes of the examples.
 *
 * The socket adapter calls `tap` (when set) with every inbound frame, and
 * `sendFrame` writes on the open socket outside the user's send counters. The
 * machine installs a tap only in the states that need one (an invoked actor
 * sets it on start and clears it on cleanup), so the data path costs one
 * property check per frame otherwise. `PeerLink` implements it for `ws`.
 */
export interface FrameLink extends WorkerLink {
  /** Consulted with every inbound frame while set. */
  tap: FrameTap | undefined;
  /** Writes one frame of the worker's own protocol; `false` if no socket is open. */
  sendFrame(data: string): boolean;
}

/** A {@link FrameLink} for tests: records what the machine wrote and feeds it frames. */
export interface TestFrameLink extends FrameLink {
  /** Every frame written with `sendFrame`, in order. */
  readonly sentFrames: string[];
  /** Whether `sendFrame` succeeds (a socket is "open"); default true. */
  open: boolean;
  /** Delivers one inbound frame as the socket adapter would; `true` if the tap consumed it. */
  deliver(data: string | Uint8Array): boolean;
}

/**
 * Creates a {@link TestFrameLink}, for machine tests with a fake socket actor.
 *
 * @example
 * ```ts
 * const link = createFrameLink(clock.now());
 * const actor = createActor(probeWorkerMachine.provide({ actors: { socket: fake } }), {
 *   clock,
 *   input: { id: 'ws://peer', link, timing, now: () => clock.now() }
 * });
 * link.deliver('["PROBE"]'); // true while a probe is waiting for its answer
 * ```
 */
export function createFrameLink(now = 0): TestFrameLink {
  const link: TestFrameLink = {
    lastActivityAt: now,
    paused: false,
    tap: undefined,
    sentFrames: [],
    open: true,
    sendFrame(data) {
      if (!link.open) return false;
      link.sentFrames.push(data);
      return true;
    },
    deliver(data) {
      return link.tap?.(data) ?? false;
    }
  };
  return link;
}
