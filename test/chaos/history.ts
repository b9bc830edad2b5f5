/**
 * The history of one fault-injection run, recorded outside the library: one
 * JSON object per line, each with its source `src` and a time `t` (epoch ms,
 * the clock of the process that saw it; every process runs on one host).
 *
 * - `peer`: the peer server (its own process) — `open`, `frame`, `recv`, `closing` (the shard's close
 *   frame arrived), `close`, `quiet`;
 * - `inbox`, `event`: what the cluster client read from the cluster's inbox and events;
 * - `kv`: every update the runner's watchers saw on the claims, members and peers buckets
 *   (`t` is the server's time of the write);
 * - `client`: the workload's `connect`, `remove` and `send` calls and their results;
 * - `nemesis`: faults (`start`, `heal`, `healed`) and the process actions they are made of
 *   (`spawn`, `ready`, `kill`, `stop`, `cont`, `exit`, `cut`, `uncut`, `nats-down`, `nats-up`).
 */
import { readFileSync } from 'node:fs';

export type Rec =
  | { src: 'peer'; t: number; k: 'open'; c: number; p: string; shard?: string; inc: number; port?: number }
  | { src: 'peer'; t: number; k: 'frame'; c: number; s: number; echo?: string }
  | { src: 'peer'; t: number; k: 'recv'; c: number; text: string }
  | { src: 'peer'; t: number; k: 'close'; c: number; code: number; sent: number }
  | { src: 'peer'; t: number; k: 'closing'; c: number }
  | { src: 'peer'; t: number; k: 'quiet' }
  | { src: 'inbox'; t: number; p: string; c: number; s: number; e: number; q: number; sh: string }
  | { src: 'event'; t: number; p: string; kind: string; e: number; q: number; sh: string; code?: number; cause?: string }
  | { src: 'kv'; t: number; b: 'claims' | 'members' | 'peers'; key: string; op: string; v: string; rev: number }
  | { src: 'client'; t: number; k: 'connect' | 'remove' | 'send'; p: string; ok: boolean; err?: string }
  | { src: 'nemesis'; t: number; k: 'config'; seed: number; leaseTtl: number; heartbeat: number; peers: number; shards: string[] }
  | { src: 'nemesis'; t: number; k: 'start' | 'heal' | 'healed'; fault: number; kind: string; target?: string; ms?: number }
  | { src: 'nemesis'; t: number; k: 'spawn' | 'ready' | 'kill' | 'stop' | 'cont' | 'exit' | 'term'; shard: string; inc: number }
  | { src: 'nemesis'; t: number; k: 'cut' | 'freeze' | 'slow' | 'pass'; shard: string; ms?: number }
  | { src: 'nemesis'; t: number; k: 'nats-down'; signal: string }
  | { src: 'nemesis'; t: number; k: 'nats-up' | 'end' | 'settle-start' };

/** Reads a history file (JSONL), sorted by time (stable: records of one source keep their order). */
export function readHistory(path: string): Rec[] {
  return sortHistory(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Rec)
  );
}

/** Sorts records by time, keeping each source's own order for equal times. */
export function sortHistory(records: Rec[]): Rec[] {
  return records
    .map((record, i) => ({ record, i }))
    .sort((a, b) => a.record.t - b.record.t || a.i - b.i)
    .map(({ record }) => record);
}
