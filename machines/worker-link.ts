/**
 * The little shared state between a worker machine and the socket it runs.
 *
 * The socket adapter writes it on the data path (a plain field write per
 * message, no actor event); the machine reads it when a keepalive timer fires.
 * This is how inbound data, successful sends and pongs reset the keepalive
 * without a machine event per message.
 */
export interface WorkerLink {
  /** Clock time (the worker's `now()`) of the last inbound frame, pong or successful send. */
  lastActivityAt: number;
  /** True while reading is paused because the inbox is full; keepalive must not fire then. */
  paused: boolean;
}

/** Creates a plain link, e.g. for tests of a machine with a fake socket. */
export function createWorkerLink(now = 0): WorkerLink {
  return { lastActivityAt: now, paused: false };
}
