import type { JetStreamClient } from '@nats-io/jetstream';

/**
 * Publishes to JetStream one message at a time and waits for each ack, so
 * the stream holds a shard's batches in the order they were read. A failed
 * publish is retried with the same message id (the stream's duplicate window
 * drops the copy if the first try did land) until it is acked or the
 * publisher is given up on. While it waits, the caller does not take more
 * from the pool's inbox: that inbox fills and the pool pauses its sockets.
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

  /** Resolves when the stream acked `data`; resolves false if the publisher gave up. */
  async publish(subject: string, data: Uint8Array): Promise<boolean> {
    const msgID = `${this.#prefix}.${++this.#next}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#js.publish(subject, data, { msgID, timeout: 2000 });
        this.acked++;
        return true;
      } catch (error) {
        if (Date.now() >= this.#giveUpAt) return false;
        this.#onRetry(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      }
    }
  }
}
