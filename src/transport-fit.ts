import { UnsupportedOptionError } from './errors.ts';
import type { Transport } from './transport.ts';
import type { ConnectionOptions, InboxOverflow, WorkerFactory } from './types.ts';
import { factoryTraits } from './worker-from-machine.ts';

/** A peer's transport and the worker factory that will drive it: what decides which options can be honoured. */
export interface TransportFit {
  transport: Transport;
  /** `undefined`: the default worker for this transport. */
  workerFactory: WorkerFactory | undefined;
}

/**
 * True if the peer's worker keeps its connection alive with ping frames.
 * The default worker does on a transport that has them; on one without, the
 * default is the probe worker, whose `pingInterval` paces application-level probes.
 */
export function sendsPingFrames(fit: TransportFit): boolean {
  if (fit.workerFactory === undefined) return fit.transport.canPing;
  return factoryTraits(fit.workerFactory)?.pingFrames ?? false;
}

/** The defaults that depend on the transport: no `User-Agent` it cannot send, no pings it cannot make. */
export function transportDefaults(
  fit: TransportFit,
  defaults: { readonly headers: Readonly<Record<string, string>>; readonly pingInterval: number }
): { headers: Readonly<Record<string, string>>; pingInterval: number } {
  const pingless = !fit.transport.canPing && sendsPingFrames(fit);
  return {
    headers: fit.transport.canSetHeaders ? defaults.headers : {},
    pingInterval: pingless ? 0 : defaults.pingInterval
  };
}

/**
 * Refuses the first option in `given` (what the user set) that the
 * transport cannot honour, naming the transport and what to use instead.
 * `overflow` is the pool's inbox policy, when it is to be checked too.
 *
 * @throws UnsupportedOptionError
 */
export function refuseUnsupported(connection: ConnectionOptions, fit: TransportFit, given: Readonly<Record<string, unknown>>, overflow: InboxOverflow | undefined): void {
  const { transport } = fit;
  const name = transport.name;
  if (!transport.canSetHeaders && given.headers !== undefined && Object.keys(connection.headers).length > 0) {
    throw new UnsupportedOptionError(
      'headers',
      name,
      'it cannot set headers on the opening handshake',
      'Carry credentials in the URL (a query parameter) or in a first message, or use wsTransport from honeybee-pool/node.'
    );
  }
  if (!transport.canSetTls && given.tls !== undefined) {
    throw new UnsupportedOptionError(
      'tls',
      name,
      'it takes no TLS options (the runtime checks certificates against its own trust store)',
      'Install the CA in the browser or system trust store, or use wsTransport from honeybee-pool/node.'
    );
  }
  if (!transport.canPing && given.pingInterval !== undefined && connection.pingInterval > 0 && sendsPingFrames(fit)) {
    throw new UnsupportedOptionError(
      'pingInterval',
      name,
      'it cannot send ping frames, and this worker pings with them',
      'Leave workerFactory unset (the default with this transport is the probe worker, whose pingInterval paces application-level probes) or use workerFromMachine(probeWorkerMachine), or set pingInterval: 0 (keepaliveTimeout still detects a silent peer).'
    );
  }
  if (!transport.canPause && overflow === 'block' && given.inboxOverflow === 'block') {
    throw new UnsupportedOptionError(
      'inboxOverflow',
      name,
      "'block' stops reading a peer while the inbox is full, and this transport cannot pause reading",
      "Use 'drop-oldest' (this transport's default) or 'drop-newest'."
    );
  }
  if (!transport.canPause && overflow === 'block' && given.inboxOverflow === undefined) {
    throw new UnsupportedOptionError(
      'inboxOverflow',
      name,
      "the pool's 'block' policy stops reading a peer while the inbox is full, and this transport cannot pause reading",
      "Give the pool inboxOverflow: 'drop-oldest' or 'drop-newest' to mix in peers on this transport."
    );
  }
}
