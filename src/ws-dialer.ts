import WebSocket from 'ws';
import type { Dialer } from './types.ts';

/**
 * The default dialer: a `ws` client with compression off, no redirects, and
 * the caller's headers, subprotocols, payload limit and TLS options.
 */
export const wsDialer: Dialer = (url, options) =>
  new WebSocket(url, options.protocols, {
    headers: options.headers,
    handshakeTimeout: options.handshakeTimeout,
    maxPayload: options.maxPayload,
    perMessageDeflate: false,
    followRedirects: false,
    ...options.tls
  });
