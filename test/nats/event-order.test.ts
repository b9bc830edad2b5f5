import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/nats/envelope.ts';
import { EventOrder } from '../../src/nats/event-order.ts';

const id = 'ws://127.0.0.1:1/p';
const connected = (epoch: number, shard = 's1'): ClusterEvent => ({ kind: 'connected', id, at: epoch, shard, epoch, seq: 1 });
const disconnected = (epoch: number, shard = 's1', cause: 'local_stop' | 'owner_lost' = 'local_stop'): ClusterEvent => ({
  kind: 'disconnected',
  id,
  at: epoch,
  code: cause === 'owner_lost' ? 1006 : 1000,
  reason: '',
  cause,
  shard,
  epoch,
  seq: 2
});
const run = (events: ClusterEvent[]): Array<[string, number, string]> => {
  const order = new EventOrder();
  return events.flatMap((event) => order.take(event)).map((event) => [event.kind, event.epoch, event.kind === 'disconnected' ? event.cause : '']);
};

describe('EventOrder', () => {
  it('passes a graceful handover through as it came', () => {
    expect(run([connected(1), disconnected(1), connected(5, 's2')])).toEqual([
      ['connected', 1, ''],
      ['disconnected', 1, 'local_stop'],
      ['connected', 5, '']
    ]);
  });

  it('ends a connection whose shard said nothing with owner_lost before the next owner’s connected, and drops its late end', () => {
    expect(run([connected(1), connected(5, 's2'), disconnected(1)])).toEqual([
      ['connected', 1, ''],
      ['disconnected', 1, 'owner_lost'],
      ['connected', 5, '']
    ]);
  });

  it('drops an owner_lost that repeats the holder’s own disconnected', () => {
    expect(run([connected(1), disconnected(1), disconnected(1, 's2', 'owner_lost'), connected(5, 's2')])).toEqual([
      ['connected', 1, ''],
      ['disconnected', 1, 'local_stop'],
      ['connected', 5, '']
    ]);
  });

  it('lets a newer epoch’s owner_lost close an older open epoch whose end was lost (its connected died with its shard)', () => {
    expect(run([connected(1), disconnected(9, 's2', 'owner_lost'), connected(12, 's2')])).toEqual([
      ['connected', 1, ''],
      ['disconnected', 9, 'owner_lost'],
      ['connected', 12, '']
    ]);
  });

  it('drops a cut-off holder’s late connected and disconnected of an epoch whose owner_lost was passed on already (a removed peer)', () => {
    // Chaos seed 2: the peer was removed while its holder was cut off; another shard cleared the claim and
    // reported the end of epoch 9; the holder published that connection's connected and disconnected after it came back.
    expect(run([connected(1), disconnected(1), disconnected(9, 's2', 'owner_lost'), connected(9, 's1'), disconnected(9, 's1')])).toEqual([
      ['connected', 1, ''],
      ['disconnected', 1, 'local_stop']
    ]);
    expect(run([connected(1), disconnected(9, 's2', 'owner_lost'), connected(9, 's1'), disconnected(9, 's1')])).toEqual([
      ['connected', 1, ''],
      ['disconnected', 9, 'owner_lost']
    ]);
  });
});
