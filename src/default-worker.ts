import type { Logger } from 'pino';
import { workerMachine } from '../machines/worker-machine.ts';
import type { WorkerFactory } from './types.ts';
import { MachineWorker } from './worker-from-machine.ts';

export { toPoolEvent, workerStateName } from './worker-from-machine.ts';

/**
 * The default worker machine. It dials through the `PeerLink` that
 * `MachineWorker` puts in its input, which opens `ws` sockets.
 */
export const defaultWorkerLogic = workerMachine;

/**
 * The default {@link Worker}: runs {@link defaultWorkerLogic} as a child of
 * the pool actor, so it appears in the pool's actor tree and inspector.
 * It is `workerFromMachine(defaultWorkerLogic)`'s worker, by name.
 *
 * @example
 * ```ts
 * const pool = createPool({ workerFactory: (_ctx, id, logger) => new DefaultWorker(id, logger) });
 * ```
 */
export class DefaultWorker extends MachineWorker {
  constructor(id: string, logger: Logger) {
    super(defaultWorkerLogic, id, logger);
  }
}

/** The factory the pool uses when `workerFactory` is not set. */
export const defaultWorkerFactory: WorkerFactory = (_ctx, id, logger) => new DefaultWorker(id, logger);
