import type { ConnectOptions, WorkerFactory } from '../types.ts';
import type { CONTRACT_CHECKS } from './checks.ts';

/** The stable id of one contract check (the ids of `CONTRACT_CHECKS`, in report order). */
export type ContractCheckId = (typeof CONTRACT_CHECKS)[number]['id'];

/** The outcome of one check. A skipped check is `ok` and says why it was skipped. */
export interface ContractResult {
  id: ContractCheckId;
  /** The check as a sentence, for test titles. */
  name: string;
  ok: boolean;
  /** What went wrong, when `ok` is false. */
  error?: string;
  /** Why the check did not run. */
  skipped?: string;
}

/**
 * What the kit tests: a factory (the kit passes each peer's URL as the `id`
 * argument), or a `setup` that builds the factory for a URL, for workers whose
 * configuration depends on where they connect.
 */
export type ContractTarget = WorkerFactory | { setup: (url: string) => WorkerFactory };

/**
 * The kit peer's end of one connection, as its hooks see it: a `ws` server
 * socket, typed by the calls a hook needs so the kit's public types do not
 * depend on `@types/ws` (cast to ws's `WebSocket` for anything else).
 */
export interface KitSocket {
  /** `WebSocket.OPEN` is 1. */
  readonly readyState: number;
  /** Sends a text (string) or binary frame. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
}

/** Hooks into the kit's peer server, for workers that speak a protocol on top of WebSocket. */
export interface ContractPeer {
  /** Runs on every connection the peer accepts, e.g. to send an auth challenge. */
  onConnection?(socket: KitSocket): void;
  /**
   * Sees every frame a worker sends to the peer first. Return `true` for a
   * protocol frame the hook answered itself (an auth answer, a probe): the
   * kit then does not count it as a message the worker sent.
   */
  onMessage?(socket: KitSocket, data: string | Buffer, isBinary: boolean): boolean;
}

/** Options of `checkWorkerContract`. All durations are milliseconds. */
export interface ContractOptions {
  /** Per-peer options for the worker, over the kit's fast test timings (50 ms reconnects, 30 s backoff). */
  connection?: ConnectOptions;
  /** Protocol hooks for the kit's peer server. */
  peer?: ContractPeer;
  /**
   * Declares a worker that opens no sockets (a replay, a simulator): the
   * checks that need a peer are skipped with `reason`, and the kit waits for
   * `messages` inbox messages that the worker produces by itself.
   */
  offline?: { reason: string; messages: number };
  /** Checks that do not apply to this worker, each with the reason. */
  skip?: Partial<Record<ContractCheckId, string>>;
  /** Bound for `start()` to settle after `stop()`, and then for the worker's sockets and timers to be gone. @default 3000 */
  stopTimeout?: number;
  /** How long to wait for a connection or a dial attempt. @default 5000 */
  connectTimeout?: number;
  /** Frames the peer streams to the worker. @default 10 */
  messages?: number;
}
