/**
 * The demo's shard module (`npm start -- --shards <n>`): each thread parses
 * its peers' JSON frames itself and sends one summary per peer and batch
 * across, instead of every frame. The screen shows which thread did the work
 * and how few values crossed.
 */
import { defineShard } from '../shards/shard-module.ts';

/** What crosses from a thread: one peer's frames of one inbox batch, parsed and summed up there. */
export interface DemoSummary {
  readonly id: string;
  /** The thread that parsed them. */
  readonly shard: string;
  /** Frames of this peer in the batch. */
  readonly frames: number;
  /** Frames that were not JSON (dropped in the thread). */
  readonly unparsed: number;
  /** The highest `seq` among them, if they carried one. */
  readonly lastSeq: number | undefined;
}

export default defineShard<DemoSummary>({
  process(batch, context) {
    const byPeer = new Map<string, { frames: number; unparsed: number; lastSeq: number | undefined }>();
    for (const { id, data } of batch) {
      let entry = byPeer.get(id);
      if (entry === undefined) byPeer.set(id, (entry = { frames: 0, unparsed: 0, lastSeq: undefined }));
      entry.frames += 1;
      try {
        const frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)) as { seq?: unknown };
        if (typeof frame.seq === 'number') entry.lastSeq = Math.max(entry.lastSeq ?? frame.seq, frame.seq);
      } catch {
        entry.unparsed += 1;
      }
    }
    return [...byPeer].map(([id, entry]) => ({ id, shard: context.shard, ...entry }));
  }
});
