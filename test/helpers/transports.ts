import type { Transport } from '../../src/transport.ts';
import { wsTransport } from '../../src/transports/ws.ts';

/** The `ws` transport, but every socket goes to `url` whatever the peer id says: odd ids with no DNS. */
export function redirectTransport(url: string): Transport {
  return { ...wsTransport, open: (_id, options, listener) => wsTransport.open(url, options, listener) };
}

/** A transport whose `open` throws `message`: every dial fails at once. */
export function throwingTransport(message: string): Transport {
  return {
    ...wsTransport,
    open: () => {
      throw new Error(message);
    }
  };
}
