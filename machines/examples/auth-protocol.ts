import { fromCallback } from 'xstate';
import type { HandshakeEvent } from '../worker-events.ts';
import type { HandshakeLogic } from '../worker-machine.ts';

/** The application-level handshake frames, as {@link parseAuthFrame} reads them. */
export type AuthFrame = { type: 'auth.challenge'; challenge: string } | { type: 'auth.ok' } | { type: 'auth.rejected'; reason: string };

/** Signs a challenge: returns (or resolves to) what goes in `["AUTH", <signed>]`. `id` is the peer's URL. */
export type Signer = (challenge: string, id: string) => unknown;

// Checked before JSON.parse: the tap sees every frame while the handshake runs.
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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Wraps a signing function (sync or async) as the auth worker's `handshake`
 * hook. While the handshake runs it sets `link.tap`, so the handshake frames
 * never reach the inbox: it answers the first challenge with
 * `["AUTH", await sign(challenge, id)]` written by `link.sendFrame`, then
 * reports `handshake.done` on the server's OK, or `handshake.failed` on a
 * rejection or a signer error. The challenge lives only in this actor.
 *
 * @example
 * ```ts
 * const logic = authWorkerMachine.provide({
 *   actors: { handshake: signerFrom((challenge, url) => sign(challenge, url)) }
 * });
 * ```
 */
export function signerFrom(sign: Signer): HandshakeLogic {
  return fromCallback(({ input, sendBack }) => {
    const { id, link } = input;
    // Like the protocol: one challenge, one answer, then only an OK (or a rejection) counts.
    let phase: 'challenge' | 'signing' | 'answered' | 'over' = 'challenge';
    const report = (event: HandshakeEvent): void => {
      if (phase === 'over') return;
      phase = 'over';
      sendBack(event);
    };
    const answer = async (challenge: string): Promise<void> => {
      try {
        const signed: unknown = await sign(challenge, id);
        if (phase !== 'signing') return;
        phase = 'answered';
        // The signed answer goes straight to the socket; the worker's context never holds it.
        link.sendFrame(JSON.stringify(['AUTH', signed]));
      } catch (error) {
        report({ type: 'handshake.failed', error: `signer failed: ${errorMessage(error)}` });
      }
    };
    const tap = (data: string | Uint8Array): boolean => {
      const frame = parseAuthFrame(data);
      if (frame === undefined) return false;
      if (frame.type === 'auth.challenge' && phase === 'challenge') {
        phase = 'signing';
        void answer(frame.challenge);
      } else if (frame.type === 'auth.ok' && phase === 'answered') {
        report({ type: 'handshake.done' });
      } else if (frame.type === 'auth.rejected') {
        report({ type: 'handshake.failed', error: `authentication rejected: ${frame.reason}` });
      }
      return true;
    };
    link.tap = tap;
    return () => {
      phase = 'over';
      if (link.tap === tap) link.tap = undefined;
    };
  });
}
