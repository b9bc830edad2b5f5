import net, { type AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ContractPeer } from './types.ts';

/** The kit's WebSocket peer: records what workers send and streams frames on request. */
export interface KitPeer {
  readonly url: string;
  /** Server-side sockets still open. */
  readonly sockets: Set<WebSocket>;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Frames workers sent, text as strings and binary as Buffers, in arrival order. */
  readonly received: Array<string | Buffer>;
  /** Sends frames on the newest open connection; false if none is open. */
  stream(frames: ReadonlyArray<string | Uint8Array>): boolean;
  /** Closes every open connection from the server side. */
  closeAll(code: number, reason: string): void;
  close(): Promise<void>;
}

/** A TCP server that accepts and never answers the upgrade: a dial that hangs. */
export interface KitHungPeer {
  readonly url: string;
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/** Starts the kit's peer on 127.0.0.1, port 0. */
export async function startKitPeer(hooks: ContractPeer = {}): Promise<KitPeer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const sockets = new Set<WebSocket>();
  const received: Array<string | Buffer> = [];
  let accepted = 0;
  let newest: WebSocket | undefined;
  wss.on('connection', (socket) => {
    accepted += 1;
    newest = socket;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => {
      const frame = isBinary ? (data as Buffer) : (data as Buffer).toString();
      if (hooks.onMessage?.(socket, frame, isBinary) === true) return;
      received.push(frame);
    });
    hooks.onConnection?.(socket);
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    sockets,
    received,
    get accepted() {
      return accepted;
    },
    stream(frames) {
      if (newest === undefined || newest.readyState !== newest.OPEN) return false;
      for (const frame of frames) newest.send(frame, { binary: typeof frame !== 'string' });
      return true;
    },
    closeAll(code, reason) {
      for (const socket of sockets) socket.close(code, reason);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        wss.close(() => resolve());
      })
  };
}

/** Starts a TCP server whose upgrades never complete. */
export async function startKitHungPeer(): Promise<KitHungPeer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Reading the request lets the server notice the client's FIN when it gives up.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })
  };
}

/** A URL on a port that was bound and released, so dials to it are refused. */
export async function kitRefusedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `ws://127.0.0.1:${port}`;
}
