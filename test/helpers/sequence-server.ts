import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** What every frame of a {@link SequenceServer} carries: its path, its connection and the connection's sequence number. */
export interface SequenceFrame {
  /** The peer path, e.g. `/p12`. */
  readonly p: string;
  /** Server-wide connection number. */
  readonly c: number;
  /** Sequence number within the connection, from 0. */
  readonly s: number;
  /** The text that was sent to this connection, for echo frames. */
  readonly echo?: string;
}

/**
 * A ws server on 127.0.0.1 port 0 playing many peers (one per path) and
 * keeping the ground truth a cluster test needs: it numbers every connection
 * and every frame it sends on it, echoes what it receives, and counts the
 * moments when one path had two sockets open at once.
 */
export interface SequenceServer {
  readonly port: number;
  /** The peer URLs, `ws://127.0.0.1:<port>/p0` … */
  readonly urls: string[];
  /** Times a path got a second OPEN socket (its close frame not yet in) while another was OPEN, still so 200 ms later. */
  readonly overlaps: number;
  /** Open sockets right now. */
  readonly open: number;
  /** Connections accepted so far, per path. */
  readonly connections: Map<string, number>;
  /** Every connection per path: when it opened and (once it did) closed, epoch ms. */
  readonly history: Map<string, Array<{ open: number; close?: number }>>;
  /** Echoed texts per path, in arrival order. */
  readonly echoes: Map<string, string[]>;
  close(): Promise<void>;
}

/** Starts the server; every open connection gets one frame per `intervalMs`. */
export async function startSequenceServer(options: { paths: number; intervalMs: number }): Promise<SequenceServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  const openByPath = new Map<string, number>();
  const connections = new Map<string, number>();
  const echoes = new Map<string, string[]>();
  const history = new Map<string, Array<{ open: number; close?: number }>>();
  const live = new Map<WebSocket, { p: string; c: number; s: number }>();
  let overlaps = 0;
  const openSockets = (p: string): number => {
    let count = 0;
    for (const [socket, state] of live) if (state.p === p && socket.readyState === socket.OPEN) count++;
    return count;
  };
  let nextConnection = 0;
  const emit = (socket: WebSocket, state: { p: string; c: number; s: number }, echo?: string): void => {
    const frame: SequenceFrame = echo === undefined ? { p: state.p, c: state.c, s: state.s } : { p: state.p, c: state.c, s: state.s, echo };
    state.s++;
    socket.send(JSON.stringify(frame));
  };
  wss.on('connection', (socket, request) => {
    const p = request.url ?? '/';
    const open = (openByPath.get(p) ?? 0) + 1;
    openByPath.set(p, open);
    // Judged 200 ms later: a client that lets a socket go sends its close frame before it dials
    // again, but the two arrive on different TCP connections, which this server (in the same busy
    // process as the pool) reads in whatever order and turn it gets to them. A socket whose close
    // frame is in (CLOSING) is on its way out, so only sockets still OPEN count. The chaos checker
    // judges doubles the same way (open and not closing, for longer than 100 ms).
    if (open > 1) setTimeout(() => openSockets(p) > 1 && overlaps++, 200).unref();
    connections.set(p, (connections.get(p) ?? 0) + 1);
    const state = { p, c: nextConnection++, s: 0 };
    const span: { open: number; close?: number } = { open: Date.now() };
    history.set(p, [...(history.get(p) ?? []), span]);
    live.set(socket, state);
    socket.on('error', () => {});
    socket.on('message', (data) => {
      const text = data.toString();
      const list = echoes.get(p) ?? [];
      echoes.set(p, list);
      list.push(text);
      emit(socket, state, text);
    });
    socket.on('close', () => {
      span.close = Date.now();
      live.delete(socket);
      openByPath.set(p, (openByPath.get(p) ?? 1) - 1);
    });
  });
  const timer = setInterval(() => {
    for (const [socket, state] of live) if (socket.readyState === socket.OPEN) emit(socket, state);
  }, options.intervalMs);
  return {
    port,
    urls: Array.from({ length: options.paths }, (_, i) => `ws://127.0.0.1:${port}/p${i}`),
    get overlaps() {
      return overlaps;
    },
    get open() {
      return live.size;
    },
    connections,
    history,
    echoes,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        for (const socket of live.keys()) socket.terminate();
        wss.close(() => resolve());
      })
  };
}

/**
 * Checks the frames a consumer received from a {@link SequenceServer}: within
 * each server connection the sequence numbers must run 0, 1, 2 … with no gap
 * and no reorder (a connection may end early: its tail died with it).
 */
export class SequenceChecker {
  /** Frames out of order or missing inside a connection. */
  gaps = 0;
  /** Frames whose peer id does not match the path that sent them. */
  misrouted = 0;
  frames = 0;
  readonly #next = new Map<number, number>();
  readonly #echoes: Array<{ id: string; text: string }> = [];

  /** Takes one inbox message: `id` is the peer id it was tagged with. */
  take(id: string, data: string | Uint8Array): void {
    const frame = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString()) as SequenceFrame;
    this.frames++;
    if (!id.endsWith(frame.p)) this.misrouted++;
    const expected = this.#next.get(frame.c) ?? 0;
    if (frame.s !== expected) this.gaps++;
    this.#next.set(frame.c, frame.s + 1);
    if (frame.echo !== undefined) this.#echoes.push({ id, text: frame.echo });
  }

  /** Echo frames seen, with the peer id they arrived under. */
  get echoes(): ReadonlyArray<{ id: string; text: string }> {
    return this.#echoes;
  }
}

/** Polls `check` every 20 ms until it returns true; rejects with `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
