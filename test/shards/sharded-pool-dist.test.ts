import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSequenceServer, type SequenceServer } from '../helpers/sequence-server.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
// Inside node_modules so the compiled files resolve ws, pino and xstate from the project.
const outDir = join(root, 'node_modules', '.cache', `honeybee-shards-dist-${process.pid}`);

// What a user of the published package runs: plain node, the compiled entry, threads on thread.js.
const script = `
const { createShardedPool } = await import(process.argv[2]);
const urls = JSON.parse(process.argv[3]);
const module = process.argv[4] ? new URL(process.argv[4], import.meta.url) : undefined;
const pool = createShardedPool({ shards: 2, reconnectDelay: 100, module });
for (const url of urls) pool.connect(url);
const connected = new Set();
let frames = 0;
const shardsSeen = new Set();
const inbox = (async () => {
  for await (const batch of pool.inbox.batches()) {
    frames += batch.length;
    for (const value of batch) if (value.shard !== undefined) shardsSeen.add(value.shard);
  }
})();
for await (const event of pool.events) {
  if (event.kind === 'connected') connected.add(event.id);
  if (connected.size === urls.length) break;
}
while (frames < urls.length) await new Promise((resolve) => setTimeout(resolve, 20));
const shards = pool.stats().shards.map((shard) => shard.peerCount);
await pool.close();
await inbox;
console.log(JSON.stringify({ connected: connected.size, shards, frames: frames >= urls.length, processedIn: [...shardsSeen].sort() }));
`;

// A shard module as a user of the published package writes it: plain JS, importing the compiled entry.
const shardModule = `
import { defineShard } from './src/shards/index.js';
export default defineShard({
  process: (batch, context) => batch.map(({ id, data }) => ({ id, s: JSON.parse(data).s, shard: context.shard }))
});
`;

describe('createShardedPool from the compiled package', () => {
  let server: SequenceServer;

  beforeAll(async () => {
    server = await startSequenceServer({ paths: 8, intervalMs: 50 });
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'], { cwd: root });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(outDir, 'run-shards.js'), script);
    writeFileSync(join(outDir, 'parse-shard.js'), shardModule);
  }, 60_000);

  afterAll(async () => {
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('runs its threads on the compiled thread.js under plain node', async () => {
    const entry = pathToFileURL(join(outDir, 'src', 'shards', 'index.js')).href;
    const { stdout } = await run(process.execPath, [join(outDir, 'run-shards.js'), entry, JSON.stringify(server.urls)], { timeout: 20_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { connected: number; shards: number[]; frames: boolean };
    expect(result.connected).toBe(8);
    expect(result.shards.reduce((a, b) => a + b)).toBe(8);
    expect(result.frames).toBe(true);
    expect(server.open).toBe(0);
  }, 30_000);

  it('loads a shard module from the compiled package and runs its process in each thread', async () => {
    const entry = pathToFileURL(join(outDir, 'src', 'shards', 'index.js')).href;
    const { stdout } = await run(process.execPath, [join(outDir, 'run-shards.js'), entry, JSON.stringify(server.urls), './parse-shard.js'], { timeout: 20_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { connected: number; frames: boolean; processedIn: string[] };
    expect(result.connected).toBe(8);
    expect(result.frames).toBe(true);
    expect(result.processedIn).toEqual(['t0', 't1']);
  }, 30_000);
});
