/**
 * The shard module of the verification bench: loaded by module URL in every
 * thread shard and NATS shard, its `process` verifies each message of an
 * inbox batch where the socket is, and only the verified events cross to the
 * consumer. The one-pool setup runs the same `verifyMessage` in its consumer.
 */
import { verifyMessage } from './signed-events.ts';

interface Message {
  readonly data: string | Uint8Array;
}

/** Verifies every message of the batch; what it returns (the verified events) is what crosses. */
export function process(batch: readonly Message[]): unknown[] {
  const verified: unknown[] = [];
  for (const message of batch) {
    const event = verifyMessage(message.data);
    if (event !== undefined) verified.push(event);
  }
  return verified;
}
