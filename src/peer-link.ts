import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { SocketEvent } from '../machines/worker-events.ts';
import type { FrameTap, WorkerLink } from '../machines/worker-link.ts';
import { BackpressureError, WriteFailedError } from './errors.ts';
import { tickNow } from './tick-now.ts';
import type { ConnectionOptions, DialOptions, InboxWriter } from './types.ts';
import { dialWs, type WsDial } from './ws-socket.ts';

const OPEN = 1;

/**
 * Everything one default worker shares between its machine, its socket
 * adapter and the pool façade: the live socket (if any), the data-path
 * counters, and the keepalive bookkeeping the machine reads.
 *
 * Only plain field writes happen here per message; lifecycle goes through
 * the machine.
 */
export class PeerLink implements WorkerLink {
  lastActivityAt = 0;
  paused = false;
  /** The open socket, or null when sends are not possible. */
  socket: WebSocket | null = null;
  received = 0;
  sent = 0;
  bytesIn = 0;
  bytesOut = 0;
  lastMessageAt: number | undefined = undefined;
  lastError: string | undefined = undefined;
  /** Set by a worker machine that consumes some inbound frames itself (see `WorkerLink`). */
  tap: FrameTap | undefined = undefined;

  constructor(
    readonly id: string,
    /** The id with credentials removed, for logs and error messages. */
    readonly label: string,
    readonly options: ConnectionOptions,
    readonly inbox: InboxWriter,
    readonly logger: Logger,
    /** Stamps received frames and activity; the default reads the clock once per tick, not per frame. */
    readonly now: () => number = tickNow
  ) {}

  /** The current dial (none between sessions). */
  #dial: WsDial | undefined = undefined;

  /** Dials with `options.dialer`; a dial still running is released first. */
  dial(report: (event: SocketEvent) => void): void {
    this.#dial?.release();
    this.#dial = dialWs(this, report);
  }

  ping(): void {
    this.#dial?.ping();
  }

  close(code: number, reason: string): void {
    this.#dial?.close(code, reason);
  }

  release(): void {
    const dial = this.#dial;
    this.#dial = undefined;
    dial?.release();
  }

  /** What the dialer is asked to open. */
  dialOptions(): DialOptions {
    const { headers, protocols, handshakeTimeout, readLimit, tls } = this.options;
    return { headers, protocols, handshakeTimeout, maxPayload: readLimit, tls };
  }

  /** Makes `socket` the live connection: sends work from now on. */
  attach(socket: WebSocket): void {
    this.socket = socket;
    this.paused = false;
    this.lastActivityAt = this.now();
  }

  /** Sends stop working from now on. */
  detach(): void {
    this.socket = null;
  }

  /** True if a send would reach an open socket. */
  get writable(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  /**
   * Writes one frame of the worker's own protocol (an auth answer, a probe).
   * It is not a user message: no counters move and no error is thrown.
   */
  sendFrame(data: string): boolean {
    const socket = this.socket;
    if (socket === null || socket.readyState !== OPEN) return false;
    try {
      socket.send(data);
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
    const socket = this.socket as WebSocket;
    const buffered = socket.bufferedAmount;
    if (buffered > this.options.sendHighWaterMark) {
      throw new BackpressureError(this.label, buffered, this.options.sendHighWaterMark);
    }
    try {
      socket.send(data);
    } catch (error) {
      throw new WriteFailedError(this.label, error);
    }
    this.sent += 1;
    this.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.lastActivityAt = this.now();
  }
}
