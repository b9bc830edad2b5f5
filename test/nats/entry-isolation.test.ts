import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []
  );
}

describe('the NATS client is optional', () => {
  it('is imported only under src/nats (the honeybee-pool/nats entry)', () => {
    const offenders = [...sources(join(root, 'src')), ...sources(join(root, 'machines'))]
      .filter((file) => !relative(root, file).startsWith(join('src', 'nats')))
      .filter((file) => /from '@nats-io\//.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('is an optional peer dependency, and the entry is exported', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      peerDependenciesMeta: Record<string, { optional: boolean }>;
      exports: Record<string, unknown>;
    };
    for (const name of ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv']) expect(manifest.peerDependenciesMeta[name]?.optional).toBe(true);
    expect(manifest.exports['./nats']).toBeDefined();
    expect(manifest.exports['./shards']).toBeDefined();
  });
});
