/**
 * The shard module of the verification bench: loaded by module URL in every
 * thread shard and NATS shard, its `process` verifies each message of an
 * inbox batch where the socket is, and only the verified events cross to the
 * consumer. The one-pool setup runs the same `verifyMessage` in its consumer.
 * (Named exports, so the module loads nothing of honeybee's.)
 */
import type { Event } from 'nostr-tools/pure';
import type { ShardModule } from '../../src/shards/index.ts';
import { verifyMessage } from './signed-events.ts';

/** Verifies every message of the batch; what it returns (the verified events) is what crosses. */
export const process: NonNullable<ShardModule<Event>['process']> = (batch) => {
  const verified: Event[] = [];
  for (const message of batch) {
    const event = verifyMessage(message.data);
    if (event !== undefined) verified.push(event);
  }
  return verified;
};
