/**
 * Every event the worker machine receives or emits, and the commands of an
 * invoked socket actor. Names are dot-namespaced by who sends them.
 */

/** Every reason a connection can end, for code that checks or lists them at run time. */
export const CLOSE_CAUSES = ['remote_close', 'remote_error', 'keepalive_timeout', 'read_limit', 'local_stop', 'network_error'] as const;

/** Why a connection ended (mirrors `DisconnectCause` in the public API). */
export type CloseCause = (typeof CLOSE_CAUSES)[number];

/** The lifecycle events a worker reports to the pool (the `type`s of {@link WorkerEmitted}). */
export const LIFECYCLE_KINDS = ['connected', 'disconnected', 'dial_failed', 'retired'] as const satisfies ReadonlyArray<WorkerEmitted['type']>;

/** What a socket reports to its worker (through the `report` given to `link.dial`, or from a socket actor). */
export type SocketEvent =
  /** The handshake completed; sends are possible from now on. */
  | { type: 'socket.open' }
  /** The socket never opened (refused, HTTP error, TLS error, a transport that threw…). */
  | { type: 'socket.failed'; error: string }
  /** An open socket closed. `cause` is the socket's own classification. */
  | { type: 'socket.closed'; code: number; reason: string; cause: CloseCause };

/**
 * Sent by the `handshake` actor, which runs between `socket.open` and
 * `connected` when the machine's `hasHandshake` guard is true.
 */
export type HandshakeEvent =
  /** The peer is usable: the worker reports `connected`. */
  | { type: 'handshake.done' }
  /** The peer refused (or the exchange broke): a failed dial, with `error` as its `lastError`. */
  | { type: 'handshake.failed'; error: string };

/** Sent to the worker from outside (the pool, a test, a user). */
export type ControlEvent =
  /** Stop for good: close the connection (if any) and reach `stopped`. */
  | { type: 'worker.stop' }
  /** Drop the connection (if any) and redial now, also out of backoff; ignored while closing. */
  | { type: 'worker.reconnect' };

/** Raised by the worker machine itself, never sent from outside. */
export type SelfEvent =
  /** Leave the connection and dial again: raised by `worker.reconnect` once the close frame is out. */
  { type: 'worker.redial' };

/** Everything the worker machine accepts. */
export type WorkerEvent = SocketEvent | HandshakeEvent | ControlEvent | SelfEvent;

/** The commands an invoked socket actor (`linkSocketLogic`) takes: `link.ping()` and `link.close()` as events. */
export type SocketCommand = { type: 'socket.ping' } | { type: 'socket.close'; code: number; reason: string };

/** Lifecycle events the worker emits (`actor.on(type, …)`); `at` is epoch ms from the injected clock. */
export type WorkerEmitted =
  | { type: 'connected'; id: string; at: number }
  | { type: 'disconnected'; id: string; at: number; code: number; reason: string; cause: CloseCause }
  | { type: 'dial_failed'; id: string; at: number; attempt: number; error: string }
  | { type: 'retired'; id: string; at: number; attempts: number };

/**
 * Emitted by the worker machine as it enters its final state: how whoever
 * hosts it learns of its end on the listener it already has (`actor.on('*')`),
 * with no subscription per worker. Not a lifecycle event: the pool does not
 * forward it.
 */
export type WorkerEndedEvent = { type: 'worker.ended' };
