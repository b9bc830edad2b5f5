import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the README usage example (src/demo/quick-start.ts)', () => {
  it('connects, receives the greeting, sends once and closes', async () => {
    const { stdout } = await run('npx', ['tsx', 'src/demo/quick-start.ts'], {
      cwd: new URL('..', import.meta.url),
      timeout: 20_000
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^connected ws:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[1]).toMatch(/^received "hello from the peer" from ws:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[2]).toBe('state connected sent 1');
  });
});
