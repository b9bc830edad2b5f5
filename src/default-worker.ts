import { probeWorkerMachine } from '../machines/examples/probe-worker-machine.ts';
import { workerMachine } from '../machines/worker-machine.ts';
import type { Transport } from './transport.ts';
import type { WorkerFactory } from './types.ts';
import { workerFromMachine } from './worker-from-machine.ts';

/**
 * The default worker on a transport with ping frames: `workerMachine`, run
 * as a child of the pool actor so it appears in the pool's actor tree and
 * inspector.
 */
export const defaultWorkerFactory: WorkerFactory = workerFromMachine(workerMachine);

/** The default worker on a transport without ping frames (a browser's): the probe worker. */
export const probeWorkerFactory: WorkerFactory = workerFromMachine(probeWorkerMachine);

/**
 * The factory the pool uses when `workerFactory` is not set: the default
 * machine where the transport can ping, the probe worker (application-level
 * probes every `pingInterval`) where it cannot.
 */
export function defaultWorkerFactoryFor(transport: Transport): WorkerFactory {
  return transport.canPing ? defaultWorkerFactory : probeWorkerFactory;
}
