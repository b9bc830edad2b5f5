import type { Logger } from 'pino';
import { createActor, type Actor } from 'xstate';
import type { WorkerEmitted } from '../machines/worker-events.ts';
import { workerMachine, type WorkerTag } from '../machines/worker-machine.ts';
import { ConnectionUnavailableError } from './errors.ts';
import { redactUrl } from './normalize-url.ts';
import { PeerLink } from './peer-link.ts';
import type { PoolEvent, PoolPlugin, Worker, WorkerFactory, WorkerStats } from './types.ts';
import { wsSocketLogic } from './ws-socket.ts';

/** The default worker machine with the `ws` socket adapter provided. */
export const defaultWorkerLogic = workerMachine.provide({ actors: { socket: wsSocketLogic } });

const TAGS: readonly WorkerTag[] = ['connected', 'dialing', 'closing', 'backoff', 'stopped'];

/** The public state name of a worker snapshot, read from its tags. */
export function workerStateName(snapshot: { hasTag(tag: WorkerTag): boolean; status: string }): WorkerTag {
  if (snapshot.status !== 'active') return 'stopped';
  return TAGS.find((tag) => snapshot.hasTag(tag)) ?? 'dialing';
}

/** Converts what the machine emits into the pool's event shape. */
export function toPoolEvent(event: WorkerEmitted): PoolEvent {
  const { type, ...rest } = event;
  return { kind: type, ...rest } as PoolEvent;
}

function lifecycleLog(logger: Logger, event: PoolEvent): void {
  if (event.kind === 'dial_failed') logger.warn({ attempt: event.attempt, error: event.error }, 'dial failed');
  else if (event.kind === 'disconnected') logger.info({ code: event.code, cause: event.cause }, 'disconnected');
  else logger.info(event.kind);
}

/**
 * The default {@link Worker}: runs {@link defaultWorkerLogic} under the
 * peer's host actor, so it appears in the pool's actor tree and inspector.
 */
export class DefaultWorker implements Worker {
  #actor: Actor<typeof defaultWorkerLogic> | undefined;
  #link: PeerLink | undefined;
  #stopRequested = false;
  readonly #label: string;

  constructor(
    readonly id: string,
    readonly logger: Logger
  ) {
    this.#label = redactUrl(id);
  }

  start(plugin: PoolPlugin): Promise<void> {
    if (this.#actor) return Promise.reject(new Error(`Worker for ${this.#label} was already started`));
    if (this.#stopRequested) return Promise.resolve();
    const link = new PeerLink(this.id, this.#label, plugin.options, plugin.inbox, this.logger);
    const actor = createActor(defaultWorkerLogic, {
      parent: plugin.host,
      id: 'worker',
      input: { id: this.id, link, timing: plugin.options }
    });
    this.#link = link;
    this.#actor = actor;
    actor.on('*', (emitted) => {
      const event = toPoolEvent(emitted);
      lifecycleLog(this.logger, event);
      plugin.events.write(event);
    });
    const finished = new Promise<void>((resolve) => {
      // An error in the machine is a bug, but it must still end start(): the pool waits on it.
      actor.subscribe({
        complete: () => resolve(),
        error: (error) => {
          this.logger.error({ err: error }, 'worker machine failed');
          resolve();
        }
      });
    });
    actor.start();
    return finished;
  }

  stop(): void {
    this.#stopRequested = true;
    const actor = this.#actor;
    if (actor !== undefined && actor.getSnapshot().status === 'active') actor.send({ type: 'worker.stop' });
  }

  send(data: string | Uint8Array | ArrayBuffer): void {
    const link = this.#link;
    if (link === undefined || !link.writable) {
      throw new ConnectionUnavailableError(this.#label, this.#state());
    }
    link.write(data);
  }

  stats(): WorkerStats {
    const link = this.#link;
    const context = this.#actor?.getSnapshot().context;
    return {
      state: this.#state(),
      connected: link?.writable ?? false,
      connectedSince: context?.connectedAt,
      attempt: context?.attempt ?? 0,
      received: link?.received ?? 0,
      sent: link?.sent ?? 0,
      bytesIn: link?.bytesIn ?? 0,
      bytesOut: link?.bytesOut ?? 0,
      restarts: Math.max(0, (context?.connections ?? 0) - 1),
      dialFailures: context?.dialFailures ?? 0,
      lastError: context?.lastError ?? link?.lastError,
      lastMessageAt: link?.lastMessageAt,
      bufferedAmount: link?.socket?.bufferedAmount ?? 0,
      paused: link?.paused ?? false
    };
  }

  #state(): string {
    const actor = this.#actor;
    if (actor === undefined) return this.#stopRequested ? 'stopped' : 'dialing';
    return workerStateName(actor.getSnapshot());
  }
}

/** The factory the pool uses when `workerFactory` is not set. */
export const defaultWorkerFactory: WorkerFactory = (_ctx, id, logger) => new DefaultWorker(id, logger);
