import type { Logger } from '../logger.ts';
import { utf8Length } from '../transport.ts';
import { ConnectionUnavailableError } from '../errors.ts';
import { redactUrl } from '../normalize-url.ts';
import type { PoolEvent, PoolPlugin, Worker, WorkerFactory, WorkerStats } from '../types.ts';
import { initialWorkerStats } from '../worker-stats.ts';

/** One recorded frame and when it arrived. */
export interface RecordedFrame {
  /** Wait before this frame, ms, counted from the previous frame (or from `connected` for the first). */
  delay: number;
  /** A string for a text frame, bytes for a binary one. */
  data: string | Uint8Array;
}

/** What a replay worker plays. */
export interface ReplayOptions {
  frames: readonly RecordedFrame[];
  /** How many times the recording is played, one "connection" per pass. @default 1 */
  passes?: number;
  /** Wait between two passes, ms. @default 0 */
  gap?: number;
  /** Receives every message sent to the peer while it is "connected". */
  onSend?: (data: string | Uint8Array | ArrayBuffer) => void;
}

type ReplayState = 'dialing' | 'connected' | 'backoff' | 'stopped';

/**
 * A worker written against the bare {@link Worker} contract, with no XState
 * and no socket: it "connects", replays recorded frames into the inbox with
 * their original timing, "disconnects" at the end of each pass and, after the
 * last pass, emits `retired` and finishes. Useful as a test double for code
 * that reads a pool, and as the smallest complete example of the contract:
 * `start()` settles only when the worker is done, `stop()` works at any time
 * and more than once, `send()` throws `ConnectionUnavailableError` unless
 * connected, `stats()` is a plain synchronous read, and the inbox writer's
 * backpressure signal (`offer()` refusing a frame) holds it and pauses the replay until
 * `onDrain`.
 */
export class ReplayWorker implements Worker {
  #state: ReplayState = 'dialing';
  #started = false;
  #stopRequested = false;
  #plugin: PoolPlugin | undefined;
  #finish: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pass = 0;
  #next = 0;
  readonly #options: ReplayOptions;
  readonly #label: string;
  readonly #stats = { received: 0, sent: 0, bytesIn: 0, bytesOut: 0, connections: 0, paused: false };
  #connectedSince: number | undefined;
  #lastMessageAt: number | undefined;

  constructor(
    readonly id: string,
    options: ReplayOptions,
    readonly logger?: Logger
  ) {
    this.#options = options;
    this.#label = redactUrl(id);
  }

  start(plugin: PoolPlugin): Promise<void> {
    if (this.#started) return Promise.reject(new Error(`Worker for ${this.#label} was already started`));
    this.#started = true;
    if (this.#stopRequested) {
      this.#state = 'stopped';
      return Promise.resolve();
    }
    this.#plugin = plugin;
    return new Promise<void>((resolve) => {
      this.#finish = resolve;
      // Never connect synchronously: the pool expects start() to return before anything happens.
      this.#schedule(0, () => this.#connect());
    });
  }

  stop(): void {
    this.#stopRequested = true;
    if (!this.#started || this.#state === 'stopped') return;
    if (this.#state === 'connected') this.#disconnect(1000, 'worker stopped', 'local_stop');
    this.#end();
  }

  send(data: string | Uint8Array | ArrayBuffer): void {
    if (this.#state !== 'connected') throw new ConnectionUnavailableError(this.#label, this.#state);
    this.#stats.sent += 1;
    this.#stats.bytesOut += typeof data === 'string' ? utf8Length(data) : data.byteLength;
    this.#options.onSend?.(data);
  }

  stats(): WorkerStats {
    const { received, sent, bytesIn, bytesOut, connections, paused } = this.#stats;
    return {
      ...initialWorkerStats(this.#state),
      connected: this.#state === 'connected',
      connectedSince: this.#connectedSince,
      received,
      sent,
      bytesIn,
      bytesOut,
      restarts: Math.max(0, connections - 1),
      lastMessageAt: this.#lastMessageAt,
      paused
    };
  }

  #connect(): void {
    this.#state = 'connected';
    this.#connectedSince = Date.now();
    this.#stats.connections += 1;
    this.#next = 0;
    this.#emit({ kind: 'connected', id: this.id, at: this.#connectedSince });
    this.#playNext();
  }

  #playNext(): void {
    const frame = this.#options.frames[this.#next];
    if (frame === undefined) {
      this.#schedule(0, () => this.#endPass());
      return;
    }
    this.#schedule(frame.delay, () => this.#deliver(frame.data));
  }

  #deliver(data: string | Uint8Array): void {
    const plugin = this.#plugin as PoolPlugin;
    const at = Date.now();
    this.#next += 1;
    this.#stats.received += 1;
    this.#stats.bytesIn += typeof data === 'string' ? utf8Length(data) : data.byteLength;
    this.#lastMessageAt = at;
    if (plugin.inbox.offer(this.id, data, at)) {
      this.#playNext();
      return;
    }
    // The inbox is full: hold this frame and the replay, as a socket reader would pause, until it drains.
    this.#stats.paused = true;
    const retry = (): void => {
      if (!plugin.inbox.offer(this.id, data, at)) return plugin.inbox.onDrain(retry);
      this.#stats.paused = false;
      if (this.#state === 'connected') this.#playNext();
    };
    plugin.inbox.onDrain(retry);
  }

  #endPass(): void {
    this.#disconnect(1000, 'end of recording', 'remote_close');
    if (this.#state === 'stopped') return;
    this.#pass += 1;
    if (this.#pass < (this.#options.passes ?? 1)) {
      this.#state = 'backoff';
      this.#schedule(this.#options.gap ?? 0, () => this.#connect());
      return;
    }
    this.#emit({ kind: 'retired', id: this.id, at: Date.now(), attempts: 0 });
    this.#end();
  }

  #disconnect(code: number, reason: string, cause: 'remote_close' | 'local_stop'): void {
    this.#state = 'backoff';
    this.#connectedSince = undefined;
    this.#emit({ kind: 'disconnected', id: this.id, at: Date.now(), code, reason, cause });
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = 'stopped';
    this.#finish?.();
  }

  #schedule(delay: number, run: () => void): void {
    // stop() may have run inside an events or inbox callback just before this.
    if (this.#state === 'stopped') return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      run();
    }, delay);
  }

  #emit(event: PoolEvent): void {
    this.logger?.info({ kind: event.kind }, 'replay');
    this.#plugin?.events.write(event);
  }
}

/**
 * A factory of {@link ReplayWorker}s that all play the same recording.
 *
 * @example
 * ```ts
 * const pool = createPool({
 *   workerFactory: replayWorkerFactory({ frames: [{ delay: 0, data: 'hello' }, { delay: 250, data: 'world' }] })
 * });
 * pool.connect('ws://recorded.invalid'); // nothing is dialed
 * for await (const message of pool.inbox) console.log(message.data); // hello, then world 250 ms later
 * ```
 */
export function replayWorkerFactory(options: ReplayOptions): WorkerFactory {
  return (_ctx, id, logger) => new ReplayWorker(id, options, logger);
}
