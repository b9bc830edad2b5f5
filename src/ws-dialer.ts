import WebSocket from 'ws';
import type { Dialer } from './types.ts';

/** The URL a WebSocket handshake may carry: peer ids keep a `#fragment`, the handshake may not. */
export function dialTarget(url: string): string {
  const hashAt = url.indexOf('#');
  return hashAt === -1 ? url : url.slice(0, hashAt);
}

/**
 * The default dialer: a `ws` client with compression off, no redirects, and
 * the caller's headers, subprotocols, payload limit and TLS options.
 */
export const wsDialer: Dialer = (url, options) =>
  new WebSocket(dialTarget(url), options.protocols, {
    headers: options.headers,
    handshakeTimeout: options.handshakeTimeout,
    maxPayload: options.maxPayload,
    perMessageDeflate: false,
    followRedirects: false,
    ...options.tls
  });
