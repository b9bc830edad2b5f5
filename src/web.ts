/**
 * `honeybee-pool/web` (and `honeybee-pool` outside Node): the pool with the
 * standard `WebSocket` transport and a console logger at `'warn'` as
 * defaults. Nothing reachable from here imports node:*, ws, Buffer or pino.
 */
import { consoleLogger } from './logger.ts';
import type { Runtime } from './options.ts';
import { createPoolWith, type Pool } from './pool.ts';
import type { Transport } from './transport.ts';
import { webSocketTransport } from './transports/web-socket.ts';
import type { PoolOptions } from './types.ts';

export * from './api.ts';

let standard: Transport | undefined;

const WEB: Runtime = {
  // Made on first use: a runtime without a global WebSocket fails only if it needs the default.
  transport: () => (standard ??= webSocketTransport()),
  logger: () => consoleLogger('warn')
};

/**
 * Creates a pool. Options are validated up front; on the web the defaults
 * are the standard `WebSocket` transport, the probe worker for liveness
 * (browsers cannot send ping frames), `inboxOverflow: 'drop-oldest'` (they
 * cannot pause reading either) and a console logger at `'warn'`.
 *
 * @throws InvalidOptionError / InvalidPoolIdError on a bad option.
 * @throws UnsupportedOptionError when the transport cannot honour an option (`headers`, `tls`…).
 * @example
 * ```ts
 * const pool = createPool();
 * const id = pool.connect('wss://relay.example.com/');
 * for await (const { data } of pool.inbox) console.log(id, data);
 * ```
 */
export function createPool(options?: PoolOptions): Pool {
  return createPoolWith(WEB, options);
}
