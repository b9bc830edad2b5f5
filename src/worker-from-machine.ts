import { createActor, type Actor, type AnyStateMachine, type InputFrom } from 'xstate';
import { LIFECYCLE_KINDS, type WorkerEmitted } from '../machines/worker-events.ts';
import type { WorkerLink } from '../machines/worker-link.ts';
import { emitWorkerEnded, workerMachine, type WorkerTag } from '../machines/worker-machine.ts';
import { ConnectionUnavailableError, DialFailedError, ReadLimitError } from './errors.ts';
import type { Logger } from './logger.ts';
import { redactUrl } from './normalize-url.ts';
import { PeerLink } from './peer-link.ts';
import { toPoolEvent, type PoolEvent } from './pool-event.ts';
import type { Transport } from './transport.ts';
import type { ConnectionOptions, PoolPlugin, WorkerFactory, WorkerStats } from './types.ts';
import type { RunFailure, RunnableWorker } from './worker-run.ts';

/**
 * What {@link workerFromMachine} starts every worker machine with.
 *
 * `link` is the peer's link over its transport: the machine dials through it
 * (`link.dial` on entering its session, `link.release` on leaving it; or it
 * invokes `linkSocketLogic` with `{ link }`), which is how received frames
 * reach the inbox and the counters, and how `send()` finds the open socket.
 * `timing` is the peer's resolved options; it carries every `WorkerTiming`
 * field the default machine reads.
 */
export interface HostedWorkerInput {
  /** The normalized peer id; copy it into every emitted event. */
  id: string;
  link: WorkerLink;
  timing: ConnectionOptions;
}

type OwnInput<TLogic extends AnyStateMachine> = Omit<InputFrom<TLogic>, keyof HostedWorkerInput | 'now' | 'random'>;

/**
 * The input fields a machine takes beyond {@link HostedWorkerInput} (and the
 * optional `now` / `random`). A machine that takes none accepts no extra input
 * at all, so a stale `options.input` is a compile error rather than ignored.
 */
export type ExtraWorkerInput<TLogic extends AnyStateMachine> = [keyof OwnInput<TLogic>] extends [never] ? Record<string, never> : OwnInput<TLogic>;

/** Options of {@link workerFromMachine}. */
export interface WorkerFromMachineOptions<TExtra> {
  /**
   * Extra input merged into every worker's input (the fields your machine's
   * input declares beyond `{ id, link, timing }`), or a function of the peer id that returns it. Called inside the
   * factory, so it must be synchronous too.
   */
  input?: TExtra | ((id: string) => TExtra);
  /**
   * The transport these workers open their sockets with, instead of the
   * pool's `transport` option (the pool checks its options against this one).
   */
  transport?: Transport;
}

// Machines with required extra input fields must be given `options.input`.
type OptionsArgs<TLogic extends AnyStateMachine> =
  Record<never, never> extends ExtraWorkerInput<TLogic>
    ? [options?: WorkerFromMachineOptions<ExtraWorkerInput<TLogic>>]
    : [options: WorkerFromMachineOptions<ExtraWorkerInput<TLogic>> & { input: WorkerFromMachineOptions<ExtraWorkerInput<TLogic>>['input'] & {} }];

// A compile-time check that the machine accepts what workerFromMachine gives it.
type AcceptsHostedInput<TLogic extends AnyStateMachine> =
  HostedWorkerInput & ExtraWorkerInput<TLogic> extends InputFrom<TLogic>
    ? unknown
    : { 'the machine input must accept { id, link: WorkerLink, timing: ConnectionOptions }': never };

const TAGS: readonly WorkerTag[] = ['connected', 'dialing', 'closing', 'backoff', 'stopped'];
const KINDS: ReadonlySet<string> = new Set(LIFECYCLE_KINDS);

/** The public state name of a worker snapshot, read from its tags. */
export function workerStateName(snapshot: { hasTag(tag: WorkerTag): boolean; status: string }): WorkerTag {
  if (snapshot.status !== 'active') return 'stopped';
  return TAGS.find((tag) => snapshot.hasTag(tag)) ?? 'dialing';
}

/** What the pool needs to know about a factory before it creates any worker. */
export interface FactoryTraits {
  /** The transport its workers use instead of the pool's. */
  transport: Transport | undefined;
  /** Its workers keep connections alive with ping frames (the default machine does). */
  pingFrames: boolean;
}

const traits = new WeakMap<WorkerFactory, FactoryTraits>();

/** The traits recorded for a factory made by {@link workerFromMachine} (or the default one); `undefined` for others. */
export function factoryTraits(factory: WorkerFactory | undefined): FactoryTraits | undefined {
  return factory === undefined ? undefined : traits.get(factory);
}

function lifecycleLog(logger: Logger, event: PoolEvent): void {
  if (event.kind === 'dial_failed') logger.warn({ attempt: event.attempt, error: event.error }, 'dial failed');
  else if (event.kind === 'disconnected') logger.info({ code: event.code, cause: event.cause }, 'disconnected');
  else logger.info(event.kind);
}

/**
 * Whether a machine says it has ended by emitting `worker.ended` from every
 * final state at its top level (the default machine, and any built from it
 * with `.provide()`): its workers then learn of their end on the `on('*')`
 * listener they have anyway. Other machines are subscribed to. Computed
 * once per machine.
 */
const ENDS_BY_EMIT = new WeakMap<AnyStateMachine, boolean>();

function endsByEmit(logic: AnyStateMachine): boolean {
  let known = ENDS_BY_EMIT.get(logic);
  if (known === undefined) {
    const finals = Object.values(logic.root.states).filter((node) => node.type === 'final');
    known = finals.length > 0 && finals.every((node) => node.entry.includes(emitWorkerEnded as never));
    ENDS_BY_EMIT.set(logic, known);
  }
  return known;
}

// Shared by every worker without extra input.
const NO_EXTRA: object = Object.freeze({});

/**
 * What a factory's workers run: the machine, its extra input and its own
 * transport. One object per factory, shared by its workers (one per worker
 * only when `input` is a function of the peer id).
 */
interface MachineSpec {
  readonly logic: AnyStateMachine;
  readonly extra: object;
  readonly transport: Transport | undefined;
}

/**
 * A {@link Worker} that runs a worker machine as a child of the pool actor,
 * so the machine appears in the pool's actor tree and inspector under the
 * peer's id (credentials removed).
 * `DefaultWorker` is this class with the default machine; most code wants
 * {@link workerFromMachine} instead of constructing it.
 */
export class MachineWorker implements RunnableWorker {
  #actor: Actor<AnyStateMachine> | undefined;
  #link: PeerLink | undefined;
  #stopRequested = false;
  // The lifecycle counters of WorkerStats, kept from the emitted events so any machine gets them
  // (fields of the worker itself rather than an object of their own: one object less per peer).
  #connections = 0;
  #dialFailures = 0;
  #attempt = 0;
  #connectedSince: number | undefined = undefined;
  #lastError: string | undefined = undefined;
  /** How the last try ended (a failed dial or a lost connection); cleared on `connected`. */
  #lastEnd: Extract<PoolEvent, { kind: 'dial_failed' | 'disconnected' }> | undefined = undefined;
  readonly #spec: MachineSpec;
  #plugin: PoolPlugin | undefined;
  #onEnd: ((plugin: PoolPlugin, failure: RunFailure) => void) | undefined;

  // Every peer has one: the machine, extra input and transport are the factory's (one shared
  // spec), and the label is worked out where it is needed (run(), errors) rather than kept.
  constructor(
    spec: MachineSpec,
    readonly id: string,
    readonly logger: Logger
  ) {
    this.#spec = spec;
  }

  /** The peer id with credentials removed, for the actor's id and error messages. */
  get #label(): string {
    return redactUrl(this.id);
  }

  start(plugin: PoolPlugin): Promise<void> {
    if (this.#actor) return Promise.reject(new Error(`Worker for ${this.#label} was already started`));
    return new Promise<void>((resolve) => this.run(plugin, () => resolve()));
  }

  /**
   * What `start()` does, reporting the end to `onEnd(plugin)` instead of
   * through a promise: the pool runs thousands of workers this way, without
   * a promise chain per peer (see {@link RunnableWorker}). A machine that
   * fails ends the run too, cleanly: the pool actor reports the failure
   * itself (`peer.crashed`). Throws if the worker was already started.
   * @internal
   */
  run<P extends PoolPlugin>(plugin: P, onEnd: (plugin: P, failure: RunFailure) => void): void {
    if (this.#actor) throw new Error(`Worker for ${this.#label} was already started`);
    if (this.#stopRequested) {
      onEnd(plugin, undefined);
      return;
    }
    const { logic, extra, transport: own } = this.#spec;
    const label = this.#label;
    const options = own === undefined || own === plugin.options.transport ? plugin.options : { ...plugin.options, transport: own };
    const link = new PeerLink(this.id, options, plugin.inbox, this.logger);
    const input = extra === NO_EXTRA ? { id: this.id, link, timing: plugin.options } : { ...extra, id: this.id, link, timing: plugin.options };
    // The system id is the peer id, so `pool.actor.system.get(id)` finds this actor (an O(1) map entry;
    // the pool starts a peer's next worker only after the previous one with that id has finished).
    const actor = createActor(logic, { parent: plugin.host, id: label, systemId: this.id, input });
    this.#link = link;
    this.#actor = actor;
    // A bound method, not an arrow field: no closure context per peer.
    actor.on('*', this.#forward.bind(this));
    this.#plugin = plugin;
    this.#onEnd = onEnd as (plugin: PoolPlugin, failure: RunFailure) => void;
    // However the machine ends, its socket must not outlive it: a failed machine runs
    // no exit action (and stops no child), so the link is released at its end either way.
    // An error in the machine is a bug, but it must still end the run: the pool waits on it.
    // The default machine says `worker.ended` on the listener above; a failure of it reaches
    // the pool actor as `xstate.error.actor.*`, and the pool calls settleCrash(). Any other
    // machine is subscribed to.
    if (!endsByEmit(logic)) {
      actor.subscribe({
        complete: () => this.#ended(undefined),
        error: (error) => this.#ended({ error })
      });
    }
    actor.start();
  }

  #ended(failure: RunFailure): void {
    if (failure !== undefined) this.logger.error({ err: failure.error }, 'worker machine failed');
    this.#link?.release();
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.(this.#plugin as PoolPlugin, undefined);
  }

  /**
   * The pool actor reported that an actor named like this worker's crashed:
   * if it was this worker's own (it is in error and its run has not ended),
   * the run ends now. True when it was.
   * @internal
   */
  settleCrash(): boolean {
    const snapshot = this.#actor?.getSnapshot();
    if (this.#onEnd === undefined || snapshot?.status !== 'error') return false;
    this.#ended({ error: snapshot.error });
    return true;
  }

  stop(): void {
    this.#stopRequested = true;
    const actor = this.#actor;
    // A finished actor ignores events anyway; skipping it avoids XState's "sent to stopped actor" warning.
    if (actor !== undefined && actor.getSnapshot().status === 'active') actor.send({ type: 'worker.stop' });
  }

  /** Drops the connection (if any) and redials now, also out of backoff: sends the machine `worker.reconnect`. */
  reconnect(): void {
    const actor = this.#actor;
    if (actor !== undefined && actor.getSnapshot().status === 'active') actor.send({ type: 'worker.reconnect' });
  }

  send(data: string | Uint8Array | ArrayBuffer): void {
    const link = this.#link;
    // The tag matters for machines whose socket opens before the peer is usable (an auth handshake).
    if (link === undefined || !link.writable || this.#actor?.getSnapshot().hasTag('connected') !== true) {
      throw new ConnectionUnavailableError(this.#label, this.#state(), this.#whyUnavailable());
    }
    link.write(data);
  }

  // The cause a refused send carries, when the last try says why the peer is down.
  #whyUnavailable(): DialFailedError | ReadLimitError | undefined {
    const last = this.#lastEnd;
    if (last?.kind === 'dial_failed') return new DialFailedError(this.#label, last.error);
    if (last?.kind === 'disconnected' && last.cause === 'read_limit') {
      return new ReadLimitError(this.#label, this.#link?.options.readLimit ?? 0);
    }
    return undefined;
  }

  stats(): WorkerStats {
    const link = this.#link;
    const snapshot = this.#actor?.getSnapshot();
    const attempt: unknown = snapshot?.context?.attempt;
    return {
      state: this.#state(),
      connected: (link?.writable ?? false) && snapshot?.hasTag('connected') === true,
      connectedSince: this.#connectedSince,
      attempt: typeof attempt === 'number' ? attempt : this.#attempt,
      received: link?.received ?? 0,
      sent: link?.sent ?? 0,
      bytesIn: link?.bytesIn ?? 0,
      bytesOut: link?.bytesOut ?? 0,
      restarts: Math.max(0, this.#connections - 1),
      dialFailures: this.#dialFailures,
      lastError: this.#lastError ?? link?.lastError,
      lastMessageAt: link?.lastMessageAt,
      bufferedAmount: link?.bufferedAmount ?? 0,
      paused: link?.paused ?? false
    };
  }

  #forward(emitted: { type: string }): void {
    if (emitted.type === 'worker.ended') {
      this.#ended(undefined);
      return;
    }
    if (!KINDS.has(emitted.type)) {
      // A machine may emit its own events for its own listeners; the pool only takes the four kinds.
      this.logger.debug({ type: emitted.type }, 'custom worker event not forwarded');
      return;
    }
    const event = toPoolEvent(emitted as WorkerEmitted);
    this.#record(event);
    lifecycleLog(this.logger, event);
    this.#plugin?.events.write(event);
  }

  #record(event: PoolEvent): void {
    if (event.kind === 'connected') {
      this.#connections += 1;
      this.#connectedSince = event.at;
      this.#attempt = 0;
      this.#lastEnd = undefined;
    } else if (event.kind === 'disconnected') {
      this.#connectedSince = undefined;
      this.#lastEnd = event;
    } else if (event.kind === 'dial_failed') {
      this.#dialFailures += 1;
      this.#attempt = event.attempt;
      this.#lastError = event.error;
      this.#lastEnd = event;
    }
  }

  #state(): string {
    const actor = this.#actor;
    if (actor === undefined) return this.#stopRequested ? 'stopped' : 'dialing';
    return workerStateName(actor.getSnapshot());
  }
}

/**
 * Turns a worker machine into a {@link WorkerFactory}: one actor per peer,
 * started as a child of the pool actor with `{ id, link, timing }` as input
 * (see {@link HostedWorkerInput}).
 *
 * Its workers open sockets with the pool's `transport`, or with
 * `options.transport` when given.
 *
 * The machine's side of the contract: dial through `link`; tag
 * its states `dialing`, `connected`, `closing`, `backoff`, `stopped` (send()
 * works only in a `connected` state whose socket is open); emit `connected`,
 * `disconnected`, `dial_failed` and `retired` with `id` and `at` (other
 * emitted events are not forwarded); and handle `worker.stop` in every state
 * by reaching a final state in bounded time. Run `checkWorkerContract` from
 * `honeybee-pool/testkit` to verify all of it.
 *
 * @example
 * ```ts
 * import { probeWorkerMachine } from 'honeybee-pool/examples';
 * import { createPool, workerFromMachine } from 'honeybee-pool';
 *
 * const pool = createPool({ pingInterval: 10_000, keepaliveTimeout: 15_000, workerFactory: workerFromMachine(probeWorkerMachine) });
 * ```
 */
export function workerFromMachine<TLogic extends AnyStateMachine>(machine: TLogic & AcceptsHostedInput<TLogic>, ...[options]: OptionsArgs<TLogic>): WorkerFactory {
  const input = options?.input;
  const transport = options?.transport;
  const shared: MachineSpec = { logic: machine, extra: typeof input === 'function' ? NO_EXTRA : (input ?? NO_EXTRA), transport };
  const factory: WorkerFactory = (_ctx, id, logger) => {
    const spec = typeof input === 'function' ? { ...shared, extra: (input as (id: string) => object)(id) } : shared;
    return new MachineWorker(spec, id, logger);
  };
  traits.set(factory, { transport, pingFrames: machine === workerMachine });
  return factory;
}
