import type { CloseCause, SocketEvent } from '../machines/worker-events.ts';
import type { FrameTap, WorkerLink } from '../machines/worker-link.ts';
import { BackpressureError, WriteFailedError, errorText } from './errors.ts';
import type { Logger } from './logger.ts';
import { redactUrl } from './normalize-url.ts';
import { tickNow } from './tick-now.ts';
import type { Transport, TransportListener, TransportOpenOptions, TransportSocket } from './transport.ts';
import type { ConnectionOptions, InboxWriter } from './types.ts';

function ignore(_event: SocketEvent): void {}

// Peers with the same resolved options (all of a pool's, unless connect() overrides some) share one.
const OPEN_OPTIONS = new WeakMap<ConnectionOptions, TransportOpenOptions>();

/** What the transport is asked to open with: one object per resolved options object, not per peer. */
function openOptionsOf(options: ConnectionOptions): TransportOpenOptions {
  let open = OPEN_OPTIONS.get(options);
  if (open === undefined) {
    const { headers, protocols, handshakeTimeout, readLimit, closeTimeout, tls } = options;
    OPEN_OPTIONS.set(options, (open = { headers, protocols, handshakeTimeout, readLimit, closeTimeout, tls }));
  }
  return open;
}

/**
 * Frames a full inbox refused, oldest first, as data and receive time in
 * turn, and the one callback the link waits for the drain with: a link
 * needs them only under backpressure, so it makes them then.
 */
class HeldFrames {
  readonly frames: Array<string | Uint8Array | number> = [];
  /** Where the next frame to offer is in `frames`. */
  next = 0;

  constructor(readonly resume: () => void) {}
}

/**
 * The link every hosted worker machine dials through: it opens sockets with
 * the peer's {@link Transport}, listens to them, and keeps what the worker,
 * its machine and the pool façade share: the data-path counters and the
 * keepalive bookkeeping the machine reads.
 *
 * It is the transport's listener itself, so the data path is one method call
 * per message with plain field writes: no actor event, no allocation. It
 * imports no transport; the transport comes in with the options.
 */
export class PeerLink implements WorkerLink, TransportListener {
  lastActivityAt = 0;
  paused = false;
  received = 0;
  sent = 0;
  bytesIn = 0;
  bytesOut = 0;
  lastMessageAt: number | undefined = undefined;
  lastError: string | undefined = undefined;
  /** Set by a worker machine that consumes some inbound frames itself (see `WorkerLink`). */
  tap: FrameTap | undefined = undefined;
  /** The current socket (none between sessions). */
  #socket: TransportSocket | undefined = undefined;
  /** True from open until the close starts: while sends may go out. */
  #open = false;
  #report: (event: SocketEvent) => void = ignore;
  #pingRefused = false;
  /** What the full inbox refused while reading is paused; created by the first refusal, dropped once all are in. */
  #held: HeldFrames | undefined = undefined;

  // Every peer has one: fields only where a peer needs its own (the label, the open options and
  // the transport are worked out from the id and `options`, frames and activity are stamped with
  // `tickNow`, which reads the clock once per tick, not per frame).
  constructor(
    readonly id: string,
    readonly options: ConnectionOptions,
    readonly inbox: InboxWriter,
    readonly logger: Logger
  ) {}

  /** The id with credentials removed, for error messages (only a failed write needs it). */
  get label(): string {
    return redactUrl(this.id);
  }

  get transport(): Transport {
    return this.options.transport;
  }

  /** Opens a socket with the transport; a socket still open is released first. */
  dial(report: (event: SocketEvent) => void): void {
    this.release();
    this.#report = report;
    try {
      this.#socket = this.transport.open(this.id, openOptionsOf(this.options), this);
    } catch (error) {
      this.#report = ignore;
      report({ type: 'socket.failed', error: redactUrl(errorText(error)) });
    }
  }

  ping(): void {
    if (this.transport.canPing) {
      this.#socket?.ping();
    } else if (!this.#pingRefused) {
      // The pool refuses pingInterval with the default worker here; a custom machine may still ask.
      this.#pingRefused = true;
      this.logger.warn({ transport: this.transport.name }, 'ping frames are not possible on this transport: use the probe worker for liveness');
    }
  }

  close(code: number, reason: string): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#open = false;
    socket.close(code, reason);
    // A socket paused for backpressure could never read the peer's close reply
    // (frames read meanwhile join the held ones, in order).
    this.#resumeReading();
  }

  release(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#open = false;
    this.#report = ignore;
    this.paused = false;
    socket?.release();
  }

  /** True if a send would reach an open socket. */
  get writable(): boolean {
    return this.#open && (this.#socket as TransportSocket).isOpen;
  }

  /** Bytes the open socket has queued and not yet sent. */
  get bufferedAmount(): number {
    return this.#socket?.bufferedAmount ?? 0;
  }

  /**
   * Writes one frame of the worker's own protocol (an auth answer, a probe).
   * It is not a user message: no counters move and no error is thrown.
   */
  sendFrame(data: string): boolean {
    if (!this.writable) return false;
    try {
      (this.#socket as TransportSocket).send(data);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Writes one frame on the live socket. The caller has checked `writable`;
   * this enforces the high-water mark and counts the bytes.
   */
  write(data: string | Uint8Array | ArrayBuffer): void {
    const socket = this.#socket as TransportSocket;
    const buffered = socket.bufferedAmount;
    if (buffered > this.options.sendHighWaterMark) {
      throw new BackpressureError(this.label, buffered, this.options.sendHighWaterMark);
    }
    let bytes: number;
    try {
      bytes = socket.send(data);
    } catch (error) {
      throw new WriteFailedError(this.label, error);
    }
    this.sent += 1;
    this.bytesOut += bytes;
    this.lastActivityAt = tickNow();
  }

  // TransportListener: what the socket reports.

  onOpen(): void {
    this.#open = true;
    this.paused = false;
    this.lastActivityAt = tickNow();
    this.#report({ type: 'socket.open' });
  }

  onMessage(data: string | Uint8Array, byteLength: number): void {
    const at = tickNow();
    this.bytesIn += byteLength;
    this.lastActivityAt = at;
    // A custom machine may consume its own protocol frames (an auth handshake, probe answers).
    if (this.tap !== undefined && this.tap(data)) return;
    this.received += 1;
    this.lastMessageAt = at;
    if (this.#held === undefined && this.inbox.offer(this.id, data, at)) return;
    this.#hold(data, at);
  }

  onPong(): void {
    this.lastActivityAt = tickNow();
  }

  onError(message: string): void {
    this.lastError = redactUrl(message);
  }

  onFail(error: string): void {
    const report = this.#report;
    this.#socket = undefined;
    this.#report = ignore;
    report({ type: 'socket.failed', error: redactUrl(error) });
  }

  onClose(code: number, reason: string, cause: CloseCause): void {
    const report = this.#report;
    this.#socket = undefined;
    this.#open = false;
    this.#report = ignore;
    this.paused = false;
    report({ type: 'socket.closed', code, reason, cause });
  }

  /**
   * Backpressure: the inbox is full (`block`). Keeps the frame, after any held
   * before it, and stops reading the socket until the consumer catches up.
   * What is held is what the transport had already read when it paused.
   */
  #hold(data: string | Uint8Array, at: number): void {
    let held = this.#held;
    if (held === undefined) {
      this.#held = held = new HeldFrames(() => this.#onDrain());
      this.inbox.onDrain(held.resume);
    }
    held.frames.push(data, at);
    this.inbox.noteHeld?.(1);
    // Not while closing: the peer's close reply must still be read.
    if (!this.paused && this.#open && this.transport.canPause) {
      this.paused = true;
      (this.#socket as TransportSocket).pause();
    }
  }

  /** The inbox has drained: hands it the held frames in order, then reads on once all are in. */
  #onDrain(): void {
    const held = this.#held;
    if (held !== undefined) {
      const frames = held.frames;
      for (; held.next < frames.length; held.next += 2) {
        if (!this.inbox.offer(this.id, frames[held.next] as string | Uint8Array, frames[held.next + 1] as number)) return this.inbox.onDrain(held.resume);
        this.inbox.noteHeld?.(-1);
      }
      this.#held = undefined;
    }
    this.#resumeReading();
  }

  #resumeReading(): void {
    const socket = this.#socket;
    if (!this.paused || socket === undefined) return;
    this.paused = false;
    this.lastActivityAt = tickNow();
    socket.resume();
  }
}
