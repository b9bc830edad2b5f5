import type { CloseCause, SocketEvent } from '../../machines/worker-events.ts';
import type { WorkerLink } from '../../machines/worker-link.ts';

/** One dial of a {@link TestLink}: the test plays the socket. */
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
export interface TestLink extends WorkerLink {
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
 * Creates a {@link TestLink}, for machine tests: the test plays the
 * socket through `link.dials`. Given `now`, delivered frames stamp
 * `lastActivityAt` with it; without, they leave it alone.
 *
 * @example
 * ```ts
 * const link = createTestLink(clock.now(), () => clock.now());
 * const actor = createActor(probeWorkerMachine, { clock, input: { id: 'ws://peer', link, timing, now: () => clock.now() } });
 * actor.start();
 * link.dials[0]?.open(); // connected
 * link.deliver('["PROBE"]'); // true: the probe's answer is consumed
 * ```
 */
export function createTestLink(lastActivityAt = 0, now?: () => number): TestLink {
  const dials: TestDial[] = [];
  // Only the newest dial, until it is released, reports or takes commands.
  let current: { dial: TestDial; state: { released: boolean } } | undefined;
  const command = (what: TestDial['commands'][number]): void => {
    if (current !== undefined) current.dial.commands.push(what);
  };
  const link: TestLink = {
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
