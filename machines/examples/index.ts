/**
 * `honeybee-pool/examples`: worked examples of custom worker machines (see
 * docs/custom-workers.md): a login before `connected` (`authWorkerMachine`)
 * and an application-level probe in place of ping frames (`probeWorker`, the
 * default worker where the transport cannot ping, as in a browser). They are
 * built from `honeybee-pool/machines` with `provide`, and are meant to be read
 * and copied as much as imported.
 *
 * @example
 * ```ts
 * import { probeWorker } from 'honeybee-pool/examples';
 * import { createPool, workerFromMachine } from 'honeybee-pool';
 *
 * const pool = createPool({ workerFactory: workerFromMachine(probeWorker({ message: '["PING"]' })) });
 * ```
 */
export { authWorkerMachine } from './auth-worker-machine.ts';
export { parseAuthFrame, signerFrom } from './auth-protocol.ts';
export type { AuthFrame, Signer } from './auth-protocol.ts';
export { probeWorkerMachine, probeWorker, probeSettings } from './probe-worker-machine.ts';
export type { ProbeSettings } from './probe-worker-machine.ts';
