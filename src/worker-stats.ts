import type { WorkerStats } from './types.ts';

/**
 * The stats of a worker that has not connected yet: every counter at zero.
 * A starting point for custom workers, which spread it and fill in what they track.
 *
 * @example
 * ```ts
 * stats() {
 *   return { ...initialWorkerStats('connected'), connected: true, received: this.received };
 * }
 * ```
 */
export function initialWorkerStats(state: string): WorkerStats {
  return {
    state,
    connected: false,
    connectedSince: undefined,
    attempt: 0,
    received: 0,
    sent: 0,
    bytesIn: 0,
    bytesOut: 0,
    restarts: 0,
    dialFailures: 0,
    lastError: undefined,
    lastMessageAt: undefined,
    bufferedAmount: 0,
    paused: false
  };
}
