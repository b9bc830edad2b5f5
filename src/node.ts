/**
 * `honeybee-pool/node` (and `honeybee-pool` under Node): the pool with the
 * `ws` transport and a silent pino logger as defaults.
 */
import { pino } from 'pino';
import type { Runtime } from './options.ts';
import { createPoolWith, type Pool } from './pool.ts';
import { wsTransport } from './transports/ws.ts';
import { indexScheduler } from './xstate-internals.ts';
import type { PoolOptions } from './types.ts';

export * from './api.ts';
export { wsTransport } from './transports/ws.ts';

const NODE: Runtime = {
  transport: () => wsTransport,
  logger: () => pino({ level: 'silent' }),
  indexScheduler
};

/**
 * Creates a pool. Options are validated up front; under Node the defaults
 * are the `ws` transport and a silent pino logger.
 *
 * @throws InvalidOptionError / InvalidPoolIdError on a bad option.
 * @throws UnsupportedOptionError when the transport cannot honour an option.
 * @example
 * ```ts
 * const pool = createPool({ id: 'relays' });
 * const id = pool.connect('wss://relay.example.com/');
 * for await (const { data } of pool.inbox) console.log(id, data);
 * ```
 */
export function createPool(options?: PoolOptions): Pool {
  return createPoolWith(NODE, options);
}
