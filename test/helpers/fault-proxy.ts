import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * How the proxy forwards bytes, switchable while connections are live:
 * - `pass`: at once;
 * - `delay`: each chunk `ms` after it arrived, in order;
 * - `throttle`: at most `bytesPerSecond` in each direction;
 * - `blackhole`: nothing, either way, while both TCP connections stay up.
 *   Bytes are held (as a partitioned network's retransmissions would be) and
 *   flow again, in order, when the mode changes.
 */
export type FaultMode = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'throttle'; bytesPerSecond: number } | { kind: 'blackhole' };

/** A direction of a proxied connection: `up` is client → server, `down` server → client. */
export type Direction = 'up' | 'down';

// A direction holds at most this much before it stops reading its source.
const HIGH_WATER = 1 << 20;
const THROTTLE_TICK_MS = 10;

/** One direction of one proxied connection: reads `source`, writes `target` as the mode allows. */
class Pipe {
  readonly #queue: Array<{ chunk: Buffer; readyAt: number }> = [];
  #queued = 0;
  #timer: NodeJS.Timeout | undefined;
  #tokens = 0;
  #refilledAt = Date.now();
  #waitingForDrain = false;
  #sourceEnded = false;
  #cut = false;

  constructor(
    readonly source: net.Socket,
    readonly target: net.Socket,
    readonly mode: () => FaultMode
  ) {
    source.on('data', (chunk: Buffer) => {
      if (this.#cut) return;
      const current = this.mode();
      this.#queue.push({ chunk, readyAt: Date.now() + (current.kind === 'delay' ? current.ms : 0) });
      this.#queued += chunk.length;
      if (this.#queued > HIGH_WATER) source.pause();
      this.flush();
    });
    source.on('end', () => {
      this.#sourceEnded = true;
      this.flush();
    });
    target.on('drain', () => {
      this.#waitingForDrain = false;
      this.flush();
    });
  }

  /** Bytes read from the source and not yet written to the target. */
  get queued(): number {
    return this.#queued;
  }

  /** Ends the target (a FIN) and discards everything this direction carries from now on. */
  cut(): void {
    this.#cut = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.stop();
    this.source.resume();
    if (!this.target.destroyed) this.target.end();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Writes whatever the current mode allows now, and schedules the rest. */
  flush(): void {
    this.stop();
    if (this.#cut || this.#waitingForDrain || this.target.destroyed) return;
    const mode = this.mode();
    if (mode.kind === 'blackhole') return;
    const now = Date.now();
    if (mode.kind === 'throttle') {
      this.#tokens = Math.min(mode.bytesPerSecond / 10, this.#tokens + ((now - this.#refilledAt) * mode.bytesPerSecond) / 1000);
    }
    this.#refilledAt = now;
    while (this.#queue.length > 0) {
      const head = this.#queue[0] as { chunk: Buffer; readyAt: number };
      if (mode.kind === 'delay' && head.readyAt > now) {
        this.#timer = setTimeout(() => this.flush(), head.readyAt - now);
        return;
      }
      let chunk = head.chunk;
      if (mode.kind === 'throttle') {
        const budget = Math.floor(this.#tokens);
        if (budget < 1) {
          this.#timer = setTimeout(() => this.flush(), THROTTLE_TICK_MS);
          return;
        }
        if (chunk.length > budget) {
          head.chunk = chunk.subarray(budget);
          chunk = chunk.subarray(0, budget);
        } else {
          this.#queue.shift();
        }
        this.#tokens -= chunk.length;
      } else {
        this.#queue.shift();
      }
      this.#queued -= chunk.length;
      if (this.#queued <= HIGH_WATER && this.source.isPaused()) this.source.resume();
      if (!this.target.write(chunk)) {
        this.#waitingForDrain = true;
        return;
      }
    }
    if (this.#sourceEnded && !this.target.destroyed) this.target.end();
  }
}

/** One client connection through the proxy and its connection to the server. */
export interface ProxiedConnection {
  readonly client: net.Socket;
  readonly server: net.Socket;
  readonly up: Pipe;
  readonly down: Pipe;
}

/** A TCP proxy on 127.0.0.1 port 0 in front of `target`, with switchable faults. */
export interface FaultProxy {
  /** `ws://127.0.0.1:<proxy port><path>`. */
  readonly url: string;
  readonly port: number;
  /** Live proxied connections. */
  readonly connections: ReadonlySet<ProxiedConnection>;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** The current mode. */
  readonly mode: FaultMode;
  pass(): void;
  delay(ms: number): void;
  throttle(bytesPerSecond: number): void;
  blackhole(): void;
  /** Destroys every live connection with a TCP RST, both sides. New connections are still accepted. */
  reset(): void;
  /** Sends a FIN in one direction of every live connection and drops what that direction carries from then on. */
  halfClose(direction: Direction): void;
  /** While on, every new connection is reset as soon as it is accepted (a host that cannot be reached). */
  refuse(on: boolean): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a fault proxy forwarding to `targetUrl` (a `ws://127.0.0.1:port`
 * URL; its path, if any, is kept on the proxy's `url`).
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy(server.url);
 * pool.connect(proxy.url);
 * proxy.blackhole(); // the peer goes silent, TCP stays up
 * ```
 */
export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl.replace(/^ws/, 'http'));
  const targetPort = Number(target.port);
  let mode: FaultMode = { kind: 'pass' };
  let accepted = 0;
  let refusing = false;
  const connections = new Set<ProxiedConnection>();
  const current = (): FaultMode => mode;

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    accepted += 1;
    if (refusing) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true, noDelay: true });
    const connection: ProxiedConnection = {
      client,
      server: upstream,
      up: new Pipe(client, upstream, current),
      down: new Pipe(upstream, client, current)
    };
    connections.add(connection);
    let closed = 0;
    const onClose = (other: net.Socket) => (hadError: boolean) => {
      // An error (RST, refused) on one side is passed on as an RST; a clean close lets the other side finish.
      if (hadError && !other.destroyed) other.resetAndDestroy();
      if (++closed === 2) {
        connection.up.stop();
        connection.down.stop();
        connections.delete(connection);
      }
    };
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', onClose(upstream));
    upstream.on('close', onClose(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const path = target.pathname === '/' ? '' : target.pathname;

  const switchTo = (next: FaultMode): void => {
    mode = next;
    for (const connection of connections) {
      connection.up.flush();
      connection.down.flush();
    }
  };

  return {
    url: `ws://127.0.0.1:${port}${path}${target.search}`,
    port,
    connections,
    get accepted() {
      return accepted;
    },
    get mode() {
      return mode;
    },
    pass: () => switchTo({ kind: 'pass' }),
    delay: (ms) => switchTo({ kind: 'delay', ms }),
    throttle: (bytesPerSecond) => switchTo({ kind: 'throttle', bytesPerSecond }),
    blackhole: () => switchTo({ kind: 'blackhole' }),
    reset() {
      for (const connection of connections) {
        if (!connection.client.destroyed) connection.client.resetAndDestroy();
        if (!connection.server.destroyed) connection.server.resetAndDestroy();
      }
    },
    refuse(on) {
      refusing = on;
    },
    halfClose(direction) {
      for (const connection of connections) connection[direction].cut();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) {
          connection.client.destroy();
          connection.server.destroy();
        }
        server.close(() => resolve());
      })
  };
}
