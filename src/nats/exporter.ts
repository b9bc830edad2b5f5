import type { FailedBatchFate } from '../errors.ts';
import type { Pool } from '../pool.ts';
import { runProcess, type LoadedShardModule, type ShardContext } from '../shards/shard-module.ts';
import type { PoolEvent } from '../types.ts';
import { encodeEvents, encodeInbox, encodeValues, type ClusterEvent, type ClusterMessage } from './envelope.ts';
import type { ReliablePublisher } from './publisher.ts';

/** Limits of one stream message. */
export interface BatchLimits {
  readonly maxBatch: number;
  readonly maxBatchBytes: number;
}

/** One peer's stamps: the epoch its frames and events are read under, and the counters within it. */
interface PeerEpochs {
  /** The epoch of the frames the exporter is taking now, and the last seq it gave. */
  epoch: number;
  seq: number;
  /** Epochs opened but not reached yet by the exporter: `from` is the inbox write index of their first frame. */
  readonly next: Array<{ readonly from: number; readonly epoch: number }>;
  eventEpoch: number;
  eventSeq: number;
  /** Epochs opened so far: a peer forgotten and claimed again before its entry went keeps it. */
  opens: number;
}

/** A peer whose worker has ended here: its entry goes once the exporter has taken `upTo` frames. */
interface Ending {
  readonly id: string;
  readonly peer: PeerEpochs;
  readonly opens: number;
  readonly upTo: number;
}

/**
 * Which claim each frame and event was read under. The shard opens an epoch
 * when it claims a peer, after the peer's previous connection has ended and
 * before it dials again, giving the count of frames the pool's inbox has
 * taken in so far: every frame of the peer written before that point belongs
 * to the earlier epoch, every later one to the new epoch. The exporter, the
 * inbox's only reader, counts the frames it takes (under `block` and
 * `drop-newest` the n-th frame taken is the n-th kept), so a frame carries
 * the epoch it was read under however long it waits in the inbox or for a
 * publish, and `seq` restarts only with a new epoch.
 */
export class EpochLedger {
  readonly #peers = new Map<string, PeerEpochs>();
  /** Peers to forget, in the order they ended (their `upTo` never decreases); those before `#endingAt` are done. */
  #ending: Ending[] = [];
  #endingAt = 0;
  #taken = 0;

  /** Peers with an entry: held ones, and ended ones whose frames the exporter has not all taken yet. */
  get size(): number {
    return this.#peers.size;
  }

  #of(id: string): PeerEpochs {
    let peer = this.#peers.get(id);
    if (peer === undefined) {
      peer = { epoch: 0, seq: 0, next: [], eventEpoch: 0, eventSeq: 0, opens: 0 };
      this.#peers.set(id, peer);
    }
    return peer;
  }

  /** Starts epoch `epoch` for `id` at inbox write index `written` (frames kept so far); events switch at once. */
  open(id: string, epoch: number, written: number): void {
    const peer = this.#of(id);
    peer.next.push({ from: written, epoch });
    peer.eventEpoch = epoch;
    peer.eventSeq = 0;
    peer.opens += 1;
  }

  /** The stamp of the next frame the exporter takes, which is `id`'s. */
  frame(id: string): { epoch: number; seq: number } {
    const index = this.#taken++;
    const peer = this.#of(id);
    while (peer.next.length > 0 && (peer.next[0]?.from ?? Infinity) <= index) {
      peer.epoch = peer.next.shift()?.epoch ?? peer.epoch;
      peer.seq = 0;
    }
    const stamp = { epoch: peer.epoch, seq: ++peer.seq };
    if (this.#endingAt < this.#ending.length) this.#sweep();
    return stamp;
  }

  /**
   * `id`'s worker here has ended and its events have been stamped; `written`
   * counts the frames kept so far, its last among them. Once the exporter
   * has taken that many, nothing more of `id` can come, and its entry goes,
   * unless the peer was claimed again meanwhile. Without this a shard would
   * keep an entry for every peer id it ever held.
   */
  forget(id: string, written: number): void {
    const peer = this.#peers.get(id);
    if (peer === undefined) return;
    this.#ending.push({ id, peer, opens: peer.opens, upTo: written });
    this.#sweep();
  }

  // Read by index, not shift(): a lapse ends every held peer at once, and shifting thousands is quadratic.
  #sweep(): void {
    const ending = this.#ending;
    while (this.#endingAt < ending.length && (ending[this.#endingAt] as Ending).upTo <= this.#taken) {
      const { id, peer, opens } = ending[this.#endingAt++] as Ending;
      if (this.#peers.get(id) === peer && peer.opens === opens) this.#peers.delete(id);
    }
    if (this.#endingAt === ending.length) {
      this.#ending = [];
      this.#endingAt = 0;
    }
  }

  /** The stamp of `id`'s next event (events are read as they are written: no queue to wait through). */
  event(id: string): { epoch: number; seq: number } {
    const peer = this.#of(id);
    return { epoch: peer.eventEpoch, seq: ++peer.eventSeq };
  }
}

/** A shard module's `process`, run on each inbox batch before it is published. */
export interface InboxWork {
  readonly process: NonNullable<LoadedShardModule['process']>;
  readonly failedBatch: LoadedShardModule['failedBatch'];
  readonly context: ShardContext;
  /** `process` failed on a batch of `messages`; `fate` is what was done with it. */
  failed(messages: number, fate: FailedBatchFate, reason: string): void;
}

/** Each value's JSON text, or why they cannot travel (a value JSON cannot hold). */
function jsonOf(values: readonly unknown[]): string[] | string {
  const texts: string[] = [];
  for (const value of values) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      return `its result cannot be published as JSON (${error instanceof Error ? error.message : String(error)})`;
    }
    if (text === undefined) return 'its result holds a value JSON cannot hold (undefined, a function or a symbol)';
    texts.push(text);
  }
  return texts;
}

/** Publishes `items` in stream messages of about `maxBatchBytes` at most (one item is never split). */
async function publishChunked<T>(items: readonly T[], sizeOf: (item: T) => number, send: (chunk: T[]) => Promise<unknown>, limits: BatchLimits): Promise<void> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && bytes + size > limits.maxBatchBytes) {
      await send(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) await send(chunk);
}

/** A frame's size in a stream message: its text, or its bytes as base64, with its id and stamp. */
const frameSize = (row: Omit<ClusterMessage, 'shard'>): number => (typeof row.data === 'string' ? row.data.length : (row.data.byteLength * 4) / 3) + row.id.length + 48;

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
  ledger: EpochLedger,
  limits: BatchLimits,
  work?: InboxWork
): Promise<void> {
  for await (const batch of pool.inbox.batches(limits.maxBatch)) {
    // Stamp the whole batch as it is taken, before any await: the ledger counts frames in inbox order.
    const stamped = batch.map(({ id, data, receivedAt }) => ({ id, data, receivedAt, ...ledger.frame(id) }));
    if (work !== undefined) {
      // `process` sees the stamped messages (epoch and seq included) and its values travel instead.
      const outcome = await runProcess(work.process, stamped, work.context);
      const json = outcome.ok ? jsonOf(outcome.values) : outcome.reason;
      if (typeof json !== 'string') {
        await publishChunked(
          json,
          (text) => text.length + 1,
          (rows) => publisher.publish(subject, encodeValues(shard, rows)),
          limits
        );
        continue;
      }
      const fate = work.failedBatch === 'pass' ? 'passed' : 'dropped';
      work.failed(batch.length, fate, json);
      if (fate === 'dropped') continue;
    }
    await publishChunked(stamped, frameSize, (rows) => publisher.publish(subject, encodeInbox(shard, rows)), limits);
  }
}

/** The events side of a shard's export: the pool's lifecycle events, and the shard's own. */
export interface EventExport {
  /** Queues an event the shard itself reports (an `owner_lost`), after every pool event read so far. */
  report(event: ClusterEvent): void;
  /**
   * Resolves when every event queued so far has been handed to NATS, on the
   * shard's one connection, so that anything the shard sends after it (the
   * delete of a claim) reaches the server after it.
   */
  sent(): Promise<void>;
  /** Resolves when the pool's events have ended and all are published. */
  readonly done: Promise<void>;
}

/**
 * Moves a shard's lifecycle events to the stream in batches, each stamped
 * with the peer's epoch when it is read; `onEvent` sees each one as it is read.
 */
export function exportEvents(
  pool: Pool,
  shard: string,
  subject: string,
  publisher: ReliablePublisher,
  ledger: EpochLedger,
  limits: BatchLimits,
  onEvent: (event: PoolEvent) => void = () => {}
): EventExport {
  const pending: ClusterEvent[] = [];
  let queued = 0;
  let handed = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  const flushWaiters: Array<{ upTo: number; resolve: () => void }> = [];
  const push = (event: ClusterEvent): void => {
    pending.push(event);
    queued++;
    wake?.();
  };
  const stamp = (event: PoolEvent): ClusterEvent => ({ ...event, shard, ...ledger.event(event.id) });
  const reading = (async () => {
    for await (const event of pool.events) {
      push(stamp(event));
      onEvent(event);
    }
    ended = true;
    wake?.();
  })();
  const done = (async () => {
    for (;;) {
      if (pending.length === 0) {
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const batch = pending.splice(0, limits.maxBatch);
      const publishing = publisher.publish(subject, encodeEvents(shard, batch));
      handed += batch.length;
      for (let i = flushWaiters.length - 1; i >= 0; i--) {
        const waiter = flushWaiters[i];
        if (waiter !== undefined && waiter.upTo <= handed) {
          flushWaiters.splice(i, 1);
          waiter.resolve();
        }
      }
      await publishing;
    }
    await reading;
    for (const waiter of flushWaiters.splice(0)) waiter.resolve();
  })();
  return {
    report: push,
    sent: () => (handed >= queued ? Promise.resolve() : new Promise((resolve) => flushWaiters.push({ upTo: queued, resolve }))),
    done
  };
}
