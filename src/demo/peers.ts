import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** One embedded peer: what the demo shows and where to dial it. */
export interface DemoPeer {
  readonly name: string;
  readonly url: string;
  /** What the peer does, in a few words. */
  readonly description: string;
}

/** The running embedded peers. */
export interface DemoPeers {
  readonly peers: DemoPeer[];
  /** Stops every peer and its timers; resolves when all listeners are closed. */
  close(): Promise<void>;
}

/** A started peer plus the teardown of whatever it runs. */
interface RunningPeer extends DemoPeer {
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
/** The flaky peer drops each client this long after it connected, ms. */
export const FLAKY_DROP_AFTER = 3000;
/**
 * How long the late peer refuses connections, ms. With the demo's retry policy
 * (250 ms doubling to 2000 ms) dials land near 1.75 s, 3.75 s and 5.75 s, so
 * 3.5 s lets the ~3.75 s dial through even with the worst jitter.
 */
export const LATE_REFUSE_FOR = 3500;

/** A JSON frame carrying the peer name and a sequence number. */
function frame(name: string, seq: number): string {
  return JSON.stringify({ peer: name, seq, at: Date.now() });
}

/** Sends `batch` frames to every open client each `everyMs`; returns the timer teardown. */
function stream(wss: WebSocketServer, name: string, batch: number, everyMs: number): () => void {
  let seq = 0;
  const timer = setInterval(() => {
    for (const client of wss.clients) {
      if (client.readyState !== client.OPEN) continue;
      for (let i = 0; i < batch; i++) client.send(frame(name, seq++));
    }
  }, everyMs);
  return () => clearInterval(timer);
}

/** Starts a ws server on 127.0.0.1 (port 0 unless given) and waits until it listens. */
async function listen(options: { port?: number; autoPong?: boolean } = {}): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ host: HOST, port: options.port ?? 0, autoPong: options.autoPong ?? true });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  // A client that vanishes mid-frame must not crash the demo process.
  wss.on('connection', (socket) => socket.on('error', () => {}));
  return wss;
}

function urlOf(wss: WebSocketServer): string {
  return `ws://${HOST}:${(wss.address() as AddressInfo).port}`;
}

/** Terminates every client, then closes the listener. */
function shutdown(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

/** A peer that streams `batch` messages every `everyMs`. */
async function streamingPeer(name: string, batch: number, everyMs: number): Promise<RunningPeer> {
  const wss = await listen();
  const stop = stream(wss, name, batch, everyMs);
  const description = `streams ~${Math.round((batch * 1000) / everyMs)} msg/s`;
  return { name, url: urlOf(wss), description, close: () => (stop(), shutdown(wss)) };
}

/** Streams at ~50/s and drops each client after {@link FLAKY_DROP_AFTER}, alternating a 1001 close and a TCP reset. */
async function flakyPeer(): Promise<RunningPeer> {
  const name = 'flaky';
  const wss = await listen();
  const stop = stream(wss, name, 1, 20);
  const timers = new Set<NodeJS.Timeout>();
  let drops = 0;
  wss.on('connection', (socket: WebSocket) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      // Alternate so the demo shows both a clean remote close and an abrupt loss.
      if (drops++ % 2 === 0) socket.close(1001, 'going away');
      else socket.terminate();
    }, FLAKY_DROP_AFTER);
    timers.add(timer);
  });
  const close = (): Promise<void> => {
    stop();
    for (const timer of timers) clearTimeout(timer);
    return shutdown(wss);
  };
  const description = `streams ~50 msg/s, drops each client after ${FLAKY_DROP_AFTER / 1000} s`;
  return { name, url: urlOf(wss), description, close };
}

/** Finds a free port by binding port 0 and releasing it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Refuses connections (nothing listens) for {@link LATE_REFUSE_FOR}, then listens on the same port and streams. */
async function latePeer(): Promise<RunningPeer> {
  const name = 'late';
  const port = await freePort();
  let running: { wss: WebSocketServer; stop: () => void } | undefined;
  let closed = false;
  let cancel = (): void => {};
  const started = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      listen({ port })
        .then((wss) => {
          // close() may have run while the listener was starting.
          if (closed) return shutdown(wss);
          running = { wss, stop: stream(wss, name, 1, 20) };
        })
        .catch((error: unknown) => console.error(`demo peer "late" could not listen on ${port}:`, error))
        .finally(resolve);
    }, LATE_REFUSE_FOR);
    cancel = () => (clearTimeout(timer), resolve());
  });
  const close = async (): Promise<void> => {
    closed = true;
    cancel();
    await started;
    running?.stop();
    if (running) await shutdown(running.wss);
  };
  const description = `refuses connections for ${LATE_REFUSE_FOR / 1000} s, then streams ~50 msg/s`;
  return { name, url: `ws://${HOST}:${port}`, description, close };
}

/** Says hello, then never sends again and never answers pings: only keepalive can notice. */
async function silentPeer(): Promise<RunningPeer> {
  // autoPong off: ws would otherwise answer the pool's pings and keep the link alive.
  const wss = await listen({ autoPong: false });
  wss.on('connection', (socket: WebSocket) => socket.send(JSON.stringify({ peer: 'silent', hello: true })));
  const description = 'says hello, then goes quiet and ignores pings';
  return { name: 'silent', url: urlOf(wss), description, close: () => shutdown(wss) };
}

/**
 * Starts the five embedded demo peers on 127.0.0.1, each on its own free port:
 * `steady` (~50 msg/s), `firehose` (~2000 msg/s), `flaky` (drops clients every
 * ~3 s), `late` (refuses connections for ~3.5 s) and `silent` (says hello,
 * then goes quiet and ignores pings).
 *
 * @example
 * ```ts
 * const { peers, close } = await startDemoPeers();
 * for (const { name, url } of peers) console.log(name, url);
 * await close();
 * ```
 */
export async function startDemoPeers(): Promise<DemoPeers> {
  const running = await Promise.all([
    streamingPeer('steady', 1, 20),
    // 20 frames per 10 ms: timers cannot fire every 0.5 ms, so batch instead.
    streamingPeer('firehose', 20, 10),
    flakyPeer(),
    latePeer(),
    silentPeer()
  ]);
  return {
    peers: running.map(({ name, url, description }) => ({ name, url, description })),
    close: async () => {
      await Promise.all(running.map((peer) => peer.close()));
    }
  };
}
