import type { JetStreamClient } from '@nats-io/jetstream';

/**
 * Publishes to JetStream one message at a time and waits for each ack, so
 * the stream holds a shard's batches in the order they were read. A failed
 * publish is retried with the same message id (the stream's duplicate window
 * drops the copy if the first try did land) until it is acked or the
 * publisher is given up on. While it waits, the caller does not take more
 * from the pool's inbox: that inbox fills and the pool pauses its sockets.
 * The inbox and the events each have a publish in flight at most.
 */
export class ReliablePublisher {
  readonly #js: JetStreamClient;
  readonly #prefix: string;
  readonly #onRetry: (error: unknown) => void;
  #next = 0;
  #giveUpAt = Infinity;

  /** `prefix` must be unique to this publisher (the shard id and its start time). */
  constructor(js: JetStreamClient, prefix: string, onRetry: (error: unknown) => void) {
    this.#js = js;
    this.#prefix = prefix;
    this.#onRetry = onRetry;
  }

  /** Messages acked by the stream. */
  acked = 0;

  /** From now on, stop retrying after `ms` (used when closing with the engine unreachable). */
  giveUpAfter(ms: number): void {
    this.#giveUpAt = Date.now() + ms;
  }

  /**
   * The connection is back (nats.js `reconnect` status): a publish whose ack
   * was lost with the old connection is sent again now, rather than after its
   * timeout (2 s), and a retry waiting out its backoff goes at once.
   */
  retryNow(): void {
    const kicks = [...this.#kicks];
    this.#kicks.clear();
    for (const kick of kicks) kick();
  }

  /** What each publish in flight (the inbox's and the events') waits on besides its attempt. */
  readonly #kicks = new Set<() => void>();

  /** Resolves when `work` settles or {@link retryNow} is called, whichever is first (`'again'`). */
  async #orRetryNow<T>(work: Promise<T>): Promise<T | 'again'> {
    let kick!: () => void;
    const again = new Promise<'again'>((resolve) => (kick = () => resolve('again')));
    this.#kicks.add(kick);
    try {
      return await Promise.race([work, again]);
    } finally {
      this.#kicks.delete(kick);
    }
  }

  /** Resolves when the stream acked `data`; resolves false if the publisher gave up. */
  async publish(subject: string, data: Uint8Array): Promise<boolean> {
    const msgID = `${this.#prefix}.${++this.#next}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const sent = this.#js.publish(subject, data, { msgID, timeout: 2000 });
        // An attempt given up for a retry may still settle: its ack or error is of no use then.
        sent.catch(() => {});
        // The same msgID again: the stream's duplicate window drops the copy if the first one did land.
        if ((await this.#orRetryNow(sent)) === 'again') continue;
        this.acked++;
        return true;
      } catch (error) {
        if (Date.now() >= this.#giveUpAt) return false;
        this.#onRetry(error);
        let timer: NodeJS.Timeout | undefined;
        const backoff = new Promise((resolve) => (timer = setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt))));
        await this.#orRetryNow(backoff);
        clearTimeout(timer);
      }
    }
  }
}
