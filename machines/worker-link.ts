import type { CloseCause, SocketEvent } from './worker-events.ts';

/**
 * Looks at one inbound frame before the inbox does. Returns `true` to consume
 * it: a consumed frame reaches neither the inbox nor the `received` counter.
 */
export type FrameTap = (data: string | Uint8Array) => boolean;

/**
 * What a worker machine drives its socket through, and the little state
 * they share.
 *
 * The machine calls `dial` on entering its `session` state and `release` on
 * leaving it, so a socket lives as long as that state (XState runs no exit
 * action on `actor.stop()` or on a failure: whoever runs the actor releases
 * the link then, as `MachineWorker` does); the socket
 * reports `socket.open` / `socket.failed` / `socket.closed` to the function
 * `dial` was given. `ping` and `close` are the machine's commands.
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
  /**
   * Starts one dial, releasing a dial still running first. The socket
   * reports to `report`: `socket.open` then, once, `socket.closed`; or
   * `socket.failed` if it never opened. A throw counts as a failed dial.
   */
  dial(report: (event: SocketEvent) => void): void;
  /** Sends a ping frame on the open socket; nothing without one. */
  ping(): void;
  /** Starts the closing handshake with a close frame; the socket reports `socket.closed` when it is done. */
  close(code: number, reason: string): void;
  /** Ends the current dial or connection at once; from then on it reports nothing. */
  release(): void;
  /** Clock time (the worker's `now()`) of the last inbound frame (tapped or not), pong or successful send. */
  lastActivityAt: number;
  /** True while reading is paused because the inbox is full; keepalive must not fire then. */
  paused: boolean;
  /** Consulted with every inbound frame while set. */
  tap: FrameTap | undefined;
  /** Writes one frame of the worker's own protocol; `false` if no socket is open. */
  sendFrame(data: string): boolean;
}

/** One dial of a {@link TestWorkerLink}: the test plays the socket. */
export interface TestDial {
  /** The socket opened: reports `socket.open`. */
  open(): void;
  /** The dial failed: reports `socket.failed`. */
  fail(error?: string): void;
  /** The open socket closed: reports `socket.closed`. */
  close(code?: number, reason?: string, cause?: CloseCause): void;
  /** The machine's commands to this socket, in order: `'ping'`, or the close frame it asked for. */
  readonly commands: Array<'ping' | { code: number; reason: string }>;
  /** True once the machine released this dial (it reports nothing after that). */
  readonly released: boolean;
}

/** A {@link WorkerLink} for tests: records what the machine wrote and feeds it frames; each dial is a {@link TestDial}. */
export interface TestWorkerLink extends WorkerLink {
  /** Every dial the machine started, oldest first. */
  readonly dials: TestDial[];
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
 * Creates a {@link TestWorkerLink}, for machine tests: the test plays the
 * socket through `link.dials`. Given `now`, delivered frames stamp
 * `lastActivityAt` with it; without, they leave it alone.
 *
 * @example
 * ```ts
 * const link = createWorkerLink(clock.now(), () => clock.now());
 * const actor = createActor(probeWorkerMachine, { clock, input: { id: 'ws://peer', link, timing, now: () => clock.now() } });
 * actor.start();
 * link.dials[0]?.open(); // connected
 * link.deliver('["PROBE"]'); // true: the probe's answer is consumed
 * ```
 */
export function createWorkerLink(lastActivityAt = 0, now?: () => number): TestWorkerLink {
  const dials: TestDial[] = [];
  // Only the newest dial, until it is released, reports or takes commands.
  let current: { dial: TestDial; state: { released: boolean } } | undefined;
  const command = (what: TestDial['commands'][number]): void => {
    if (current !== undefined) current.dial.commands.push(what);
  };
  const link: TestWorkerLink = {
    lastActivityAt,
    paused: false,
    tap: undefined,
    dials,
    sentFrames: [],
    open: true,
    dial(report) {
      link.release();
      const state = { released: false };
      const send = (event: SocketEvent): void => {
        if (!state.released) report(event);
      };
      const dial: TestDial = {
        open: () => send({ type: 'socket.open' }),
        fail: (error = 'connect ECONNREFUSED 127.0.0.1:9') => send({ type: 'socket.failed', error }),
        close: (code = 1000, reason = '', cause = 'remote_close') => send({ type: 'socket.closed', code, reason, cause }),
        commands: [],
        get released() {
          return state.released;
        }
      };
      current = { dial, state };
      dials.push(dial);
    },
    ping: () => command('ping'),
    close: (code, reason) => command({ code, reason }),
    release() {
      if (current !== undefined) current.state.released = true;
      current = undefined;
    },
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
