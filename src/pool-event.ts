import type { WorkerEmitted } from '../machines/worker-events.ts';

// `{ type: 'connected', … }` → `{ readonly kind: 'connected', … }`, member by member.
type Renamed<E> = E extends { type: infer K } ? { readonly kind: K } & { readonly [P in Exclude<keyof E, 'type'>]: E[P] } : never;
type Flat<T> = T extends unknown ? { readonly [P in keyof T]: T[P] } : never;

/**
 * Lifecycle events, one stream for the whole pool (`pool.events`). It is
 * the worker machine's emitted events ({@link WorkerEmitted}) with `type`
 * renamed `kind`, derived here so the two can never drift apart. `at` is
 * epoch milliseconds.
 */
export type PoolEvent = Flat<Renamed<WorkerEmitted>>;

/** `'connected' | 'disconnected' | 'dial_failed' | 'retired'`. */
export type PoolEventKind = PoolEvent['kind'];

/** Converts what a worker machine emits into the pool's event shape (the one conversion). */
export function toPoolEvent(event: WorkerEmitted): PoolEvent {
  const { type, ...rest } = event;
  return { kind: type, ...rest } as PoolEvent;
}

/** The inverse of {@link toPoolEvent}: a pool event as the pool actor re-emits it. */
export function toWorkerEmitted(event: PoolEvent): WorkerEmitted {
  const { kind, ...rest } = event;
  return { type: kind, ...rest } as WorkerEmitted;
}
