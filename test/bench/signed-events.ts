/**
 * The workload of the verification bench: a pool of Nostr events signed once
 * with nostr-tools' `finalizeEvent` (≈ 3 ms each on this machine) and cached
 * as JSON, one relay `EVENT` message per line, so later runs start at once.
 * The firehose server replays them round-robin; every client parses each
 * frame afresh, so nostr-tools' per-object "verified" mark never carries
 * from one message to the next.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';

/** Where the bench keeps what it generates once (signed events). */
export const CACHE_DIR = join(tmpdir(), 'honeybee-bench');

/**
 * Returns the path of a file holding `count` relay messages
 * `["EVENT","bench",<signed event>]`, one per line: read from the cache,
 * or signed now (by 8 keys, distinct contents) and cached.
 */
export function signedEventsFile(count: number, dir = CACHE_DIR): string {
  const file = join(dir, `signed-events-${count}.jsonl`);
  if (existsSync(file) && readFileSync(file, 'utf8').split('\n').filter(Boolean).length === count) return file;
  mkdirSync(dir, { recursive: true });
  const keys = Array.from({ length: 8 }, () => generateSecretKey());
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const event = finalizeEvent(
      { kind: 1, created_at: 1_700_000_000 + i, tags: [['t', 'honeybee']], content: `hello honeybee, event ${i} of the verification bench` },
      keys[i % keys.length]!
    );
    lines.push(JSON.stringify(['EVENT', 'bench', event]));
  }
  // Written aside and renamed: a concurrent run never reads half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${lines.join('\n')}\n`);
  renameSync(partial, file);
  return file;
}

/** The relay messages of a file written by {@link signedEventsFile}. */
export function readSignedEvents(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** The per-message work every setup does, in the consumer or in a shard's `process` (see verify-shard.mjs). */
export { verifyMessage } from './verify-shard.mjs';
