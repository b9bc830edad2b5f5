import { workerMachine } from '../worker-machine.ts';
import { signerFrom } from './auth-protocol.ts';

const noSigner = signerFrom(() => {
  throw new Error('no signer: provide one with authWorkerMachine.provide({ actors: { handshake: signerFrom(sign) } })');
});

/**
 * An authenticating worker: the default worker with its handshake hook on.
 * After the socket opens it answers the server's challenge
 * (`["AUTH", challenge]` → `["AUTH", signed]` → `["OK", …, true]`) and only
 * then reports `connected`. A rejection, a signer error, a close or
 * `handshakeTimeout` during the handshake count as a failed dial
 * (`dial_failed`, then backoff). The handshake frames are consumed by a tap
 * on the link, so they never reach the inbox; until `connected`, `send()`
 * throws `ConnectionUnavailableError` (the state is tagged `dialing`).
 *
 * Provide `handshake` ({@link signerFrom}).
 *
 * @example
 * ```ts
 * const logic = authWorkerMachine.provide({
 *   actors: { handshake: signerFrom((challenge) => signChallenge(challenge)) }
 * });
 * const pool = createPool({ handshakeTimeout: 5000, workerFactory: workerFromMachine(logic) });
 * ```
 */
export const authWorkerMachine = workerMachine.provide({
  guards: { hasHandshake: () => true },
  actors: { handshake: noSigner }
});
