import type { Pool } from '../pool.ts';
import type { PoolEvent } from '../types.ts';
import { encodeEvents, encodeInbox, type ClusterEvent, type ClusterMessage } from './envelope.ts';
import type { ReliablePublisher } from './publisher.ts';

/** Per-peer epoch and counters: the epoch is the revision of this shard's claim. */
export interface EpochStamp {
  epoch: number;
  seq: number;
  eventSeq: number;
}

/** Limits of one stream message. */
export interface BatchLimits {
  readonly maxBatch: number;
  readonly maxBatchBytes: number;
}

/**
 * Moves a shard's pool inbox to the stream: one stream message per batch,
 * bounded by count and bytes, each acked before the next batch is taken.
 * Resolves when the pool's inbox has ended and everything taken is published.
 */
export async function exportInbox(
  pool: Pool,
  shard: string,
  subject: string,
  publisher: ReliablePublisher,
  stamps: Map<string, EpochStamp>,
  limits: BatchLimits
): Promise<void> {
  for await (const batch of pool.inbox.batches(limits.maxBatch)) {
    let rows: Array<Omit<ClusterMessage, 'shard'>> = [];
    let bytes = 0;
    for (const { id, data, receivedAt } of batch) {
      const stamp = stamps.get(id) ?? { epoch: 0, seq: 0, eventSeq: 0 };
      stamps.set(id, stamp);
      const size = (typeof data === 'string' ? data.length : (data.byteLength * 4) / 3) + id.length + 48;
      if (rows.length > 0 && bytes + size > limits.maxBatchBytes) {
        await publisher.publish(subject, encodeInbox(shard, rows));
        rows = [];
        bytes = 0;
      }
      rows.push({ id, data, receivedAt, epoch: stamp.epoch, seq: ++stamp.seq });
      bytes += size;
    }
    if (rows.length > 0) await publisher.publish(subject, encodeInbox(shard, rows));
  }
}

/**
 * Moves a shard's lifecycle events to the stream in batches, stamped with the
 * peer's epoch. `extra` lets the shard add events of its own (none yet).
 * Resolves when the pool's events have ended and all are published.
 */
export async function exportEvents(
  pool: Pool,
  shard: string,
  subject: string,
  publisher: ReliablePublisher,
  stamps: Map<string, EpochStamp>,
  limits: BatchLimits
): Promise<void> {
  const pending: ClusterEvent[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const stamp = (event: PoolEvent): ClusterEvent => {
    const entry = stamps.get(event.id) ?? { epoch: 0, seq: 0, eventSeq: 0 };
    stamps.set(event.id, entry);
    return { ...event, shard, epoch: entry.epoch, seq: ++entry.eventSeq };
  };
  const reading = (async () => {
    for await (const event of pool.events) {
      pending.push(stamp(event));
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  for (;;) {
    if (pending.length === 0) {
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    await publisher.publish(subject, encodeEvents(shard, pending.splice(0, limits.maxBatch)));
  }
  await reading;
}
