import { NotReadyError, type NotReadyReason } from './errors.ts';
import type { ReadyOptions } from './types.ts';

/** One pending `pool.ready(id)` call. */
interface Waiter {
  resolve(): void;
  reject(error: NotReadyError): void;
}

/**
 * The pending `pool.ready(id)` calls of one peer. Each settles once: on the
 * peer's next `connected` (resolved), or when the peer retires, is removed or
 * the pool closes, or on its own timeout or signal (rejected with a
 * {@link NotReadyError} naming the reason). Its timer and signal listener go
 * away when it settles, however it settles.
 *
 * @example
 * ```ts
 * const waiters = new ReadyWaiters('ws://127.0.0.1:7000');
 * const ready = waiters.wait({ timeout: 5000 });
 * waiters.resolveAll(); // on `connected`
 * await ready;
 * ```
 */
export class ReadyWaiters {
  readonly #label: string;
  readonly #waiters = new Set<Waiter>();

  /** `label` is the peer id as error messages show it (credentials and query values masked). */
  constructor(label: string) {
    this.#label = label;
  }

  /** How many calls are waiting. */
  get size(): number {
    return this.#waiters.size;
  }

  /** A promise that settles as described on the class; options are already validated. */
  wait(options: ReadyOptions): Promise<void> {
    const { signal, timeout } = options;
    if (signal?.aborted === true) return Promise.reject(this.#error('aborted', signal.reason));
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => settle(() => reject(this.#error('aborted', signal?.reason)));
      const settle = (finish: () => void): void => {
        if (!this.#waiters.delete(waiter)) return;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      const waiter: Waiter = {
        resolve: () => settle(resolve),
        reject: (error) => settle(() => reject(error))
      };
      this.#waiters.add(waiter);
      if (timeout !== undefined) {
        timer = setTimeout(() => waiter.reject(this.#error('timeout', undefined, ` (${timeout} ms)`)), timeout);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves every waiting call (the peer connected). */
  resolveAll(): void {
    for (const waiter of [...this.#waiters]) waiter.resolve();
  }

  /** Rejects every waiting call with a {@link NotReadyError} for `reason`. */
  rejectAll(reason: NotReadyReason, detail = ''): void {
    if (this.#waiters.size === 0) return;
    for (const waiter of [...this.#waiters]) waiter.reject(this.#error(reason, undefined, detail));
  }

  #error(reason: NotReadyReason, cause?: unknown, detail = ''): NotReadyError {
    return new NotReadyError(this.#label, reason, detail, cause);
  }
}
