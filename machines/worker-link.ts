/**
 * Looks at one inbound frame before the inbox does. Returns `true` to consume
 * it: a consumed frame reaches neither the inbox nor the `received` counter.
 */
export type FrameTap = (data: string | Uint8Array) => boolean;

/**
 * The little shared state between a worker machine and the socket it runs.
 *
 * The socket adapter writes it on the data path (a plain field write per
 * message, no actor event); the machine reads it when a keepalive timer fires.
 * This is how inbound data, successful sends and pongs reset the keepalive
 * without a machine event per message.
 *
 * It is also how a machine speaks its own protocol on the socket (an
 * application-level handshake, probes): the adapter calls `tap` (when set)
 * with every inbound frame, and `sendFrame` writes outside the user's send
 * counters. A hook actor sets the tap when it starts and clears it in its
 * cleanup, so the data path costs one property check per frame otherwise.
 * `PeerLink` implements it for `ws`.
 */
export interface WorkerLink {
  /** Clock time (the worker's `now()`) of the last inbound frame (tapped or not), pong or successful send. */
  lastActivityAt: number;
  /** True while reading is paused because the inbox is full; keepalive must not fire then. */
  paused: boolean;
  /** Consulted with every inbound frame while set. */
  tap: FrameTap | undefined;
  /** Writes one frame of the worker's own protocol; `false` if no socket is open. */
  sendFrame(data: string): boolean;
}

/** A {@link WorkerLink} for tests: records what the machine wrote and feeds it frames. */
export interface TestWorkerLink extends WorkerLink {
  /** Every frame written with `sendFrame`, in order. */
  readonly sentFrames: string[];
  /** Whether `sendFrame` succeeds (a socket is "open"); default true. */
  open: boolean;
  /**
   * Delivers one inbound frame as the socket adapter would: stamps
   * `lastActivityAt` (when the link has a clock), then offers it to the tap.
   * Returns `true` if the tap consumed it.
   */
  deliver(data: string | Uint8Array): boolean;
}

/**
 * Creates a {@link TestWorkerLink}, for machine tests with a fake socket actor.
 * Given `now`, delivered frames stamp `lastActivityAt` with it; without, they
 * leave it alone.
 *
 * @example
 * ```ts
 * const link = createWorkerLink(clock.now(), () => clock.now());
 * const actor = createActor(probeWorkerMachine.provide({ actors: { socket: fake } }), {
 *   clock,
 *   input: { id: 'ws://peer', link, timing, now: () => clock.now() }
 * });
 * link.deliver('["PROBE"]'); // true: the probe's answer is consumed
 * ```
 */
export function createWorkerLink(lastActivityAt = 0, now?: () => number): TestWorkerLink {
  const link: TestWorkerLink = {
    lastActivityAt,
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
      if (now !== undefined) link.lastActivityAt = now();
      return link.tap?.(data) ?? false;
    }
  };
  return link;
}
