import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.ts';
import { checkShardOptions } from '../../src/nats/shard-options.ts';

// Only the option checks run: nothing here connects anywhere.
const nats = { request: () => Promise.resolve() } as unknown as NatsConnection;

describe('checkShardOptions', () => {
  it('refuses a pool that drops its oldest messages, which would mislabel epochs', () => {
    expect(() => checkShardOptions({ nats, cluster: 'c', pool: { inboxOverflow: 'drop-oldest' } })).toThrow(InvalidOptionError);
    expect(() => checkShardOptions({ nats, cluster: 'c', pool: { inboxOverflow: 'drop-oldest' } })).toThrow(/pool\.inboxOverflow/);
  });

  it('keeps block by default and accepts drop-newest', () => {
    expect(checkShardOptions({ nats, cluster: 'c' }).pool.inboxOverflow).toBe('block');
    expect(checkShardOptions({ nats, cluster: 'c', pool: { inboxOverflow: 'drop-newest' } }).pool.inboxOverflow).toBe('drop-newest');
  });
});
