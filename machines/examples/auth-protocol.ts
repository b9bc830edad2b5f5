import { fromCallback, fromPromise, type EventObject, type PromiseActorLogic } from 'xstate';
import type { FrameLink } from '../frame-link.ts';

/** The application-level handshake frames, as the auth tap reports them to the machine. */
export type AuthFrame =
  | { type: 'auth.challenge'; challenge: string }
  | { type: 'auth.ok' }
  | { type: 'auth.rejected'; reason: string };

/** What the `signer` actor is started with. */
export interface SignerInput {
  id: string;
  challenge: string;
}

// Checked before JSON.parse: the tap sees every frame while authenticating.
const AUTH_PREFIX = /^\s*\[\s*"(?:AUTH|OK)"/;

/**
 * Reads a NIP-42-style handshake frame: `["AUTH", challenge]` from the server,
 * then `["OK", <id>, true|false, message]`. Anything else is `undefined`.
 *
 * @example
 * ```ts
 * parseAuthFrame('["AUTH","c1"]'); // { type: 'auth.challenge', challenge: 'c1' }
 * parseAuthFrame('["OK","e1",false,"auth-required: bad signature"]'); // { type: 'auth.rejected', … }
 * ```
 */
export function parseAuthFrame(data: string | Uint8Array): AuthFrame | undefined {
  if (typeof data !== 'string' || !AUTH_PREFIX.test(data)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const [label, first, accepted, message] = parsed as unknown[];
  if (label === 'AUTH' && typeof first === 'string') return { type: 'auth.challenge', challenge: first };
  if (label !== 'OK' || typeof accepted !== 'boolean') return undefined;
  return accepted ? { type: 'auth.ok' } : { type: 'auth.rejected', reason: typeof message === 'string' ? message : 'rejected' };
}

/**
 * Wraps a signing function as the machine's `signer` actor. It gets the
 * challenge and returns what goes in `["AUTH", <signed>]` (for Nostr, a
 * signed kind-22242 event); it may be async.
 *
 * @example
 * ```ts
 * const logic = authWorkerMachine.provide({
 *   actors: { socket: wsSocketLogic, signer: signerFrom((challenge) => sign(challenge)) }
 * });
 * ```
 */
export function signerFrom(sign: (challenge: string, id: string) => unknown): PromiseActorLogic<unknown, SignerInput> {
  return fromPromise<unknown, SignerInput>(async ({ input }) => sign(input.challenge, input.id));
}

/**
 * The actor the auth machine invokes while authenticating: it installs a tap
 * on the link, so handshake frames become machine events and never inbox
 * messages, and removes it when the state is left.
 */
export const authTapLogic = fromCallback<EventObject, { link: FrameLink }>(({ input, sendBack }) => {
  const { link } = input;
  const tap = (data: string | Uint8Array): boolean => {
    const frame = parseAuthFrame(data);
    if (frame === undefined) return false;
    sendBack(frame);
    return true;
  };
  link.tap = tap;
  return () => {
    if (link.tap === tap) link.tap = undefined;
  };
});
