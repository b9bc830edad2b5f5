import { fromCallback } from 'xstate';
import type { SocketCommand, SocketEvent } from './worker-events.ts';

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
 * The pool's link (`src/peer-link.ts`) implements it over a `Transport`;
 * `createTestLink` (`honeybee-pool/testkit`) lets a test play the socket.
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

/**
 * A link's socket as an actor, for a custom machine that invokes its socket
 * instead of dialing through its link in an entry action: it runs `link.dial`
 * when started, turns `socket.ping` / `socket.close` into `link.ping()` /
 * `link.close()`, and releases the link when stopped. It works with any
 * {@link WorkerLink}. As for any machine, whoever runs the actor releases the
 * link when it fails (XState stops no child of a failed machine,
 * statelyai/xstate#5433); the pool's workers do.
 *
 * @example
 * ```ts
 * const myMachine = setup({ actors: { socket: linkSocketLogic } }).createMachine({
 *   invoke: { src: 'socket', input: ({ context }) => ({ link: context.link }) }
 * });
 * ```
 */
export const linkSocketLogic = fromCallback<SocketCommand, { link: WorkerLink }>(({ input, sendBack, receive }) => {
  const { link } = input;
  link.dial(sendBack);
  receive((command) => {
    if (command.type === 'socket.ping') link.ping();
    else link.close(command.code, command.reason);
  });
  return () => link.release();
});
