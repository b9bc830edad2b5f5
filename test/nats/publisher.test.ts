import type { JetStreamClient } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { ReliablePublisher } from '../../src/nats/publisher.ts';

interface Attempt {
  readonly msgID: string;
  ack(): void;
  fail(error: Error): void;
}

/** A JetStream client whose publishes settle only when the test says so. */
function heldJetStream(): { js: JetStreamClient; attempts: Attempt[] } {
  const attempts: Attempt[] = [];
  const js = {
    publish(_subject: string, _data: Uint8Array, options: { msgID: string }) {
      return new Promise((resolve, reject) => {
        attempts.push({ msgID: options.msgID, ack: () => resolve({ seq: attempts.length, duplicate: false }), fail: reject });
      });
    }
  } as unknown as JetStreamClient;
  return { js, attempts };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ReliablePublisher', () => {
  it('sends a publish whose ack the old connection lost again as soon as it is told the connection is back, with the same msgID', async () => {
    const { js, attempts } = heldJetStream();
    const publisher = new ReliablePublisher(js, 'p', () => {});
    let acked: boolean | undefined;
    void publisher.publish('s', new Uint8Array([1])).then((ok) => (acked = ok));
    await tick();
    expect(attempts).toHaveLength(1);
    // The server restarted: this ack will never come (the first attempt would wait out its 2 s timeout).
    publisher.retryNow();
    await tick();
    expect(attempts.map((attempt) => attempt.msgID)).toEqual(['p.1', 'p.1']);
    attempts[1]!.ack();
    await tick();
    expect(acked).toBe(true);
    expect(publisher.acked).toBe(1);
    // The abandoned attempt settling late changes nothing.
    attempts[0]!.fail(new Error('timeout'));
    await tick();
    expect(publisher.acked).toBe(1);
  });

  it('cuts a retry’s backoff short when the connection is back, for every publish in flight', async () => {
    const { js, attempts } = heldJetStream();
    const retries: unknown[] = [];
    const publisher = new ReliablePublisher(js, 'p', (error) => retries.push(error));
    const results: boolean[] = [];
    void publisher.publish('inbox', new Uint8Array([1])).then((ok) => results.push(ok));
    void publisher.publish('events', new Uint8Array([2])).then((ok) => results.push(ok));
    await tick();
    attempts[0]!.fail(new Error('no responders'));
    await tick();
    expect(retries).toHaveLength(1);
    // The first publish waits out its backoff; the second still waits for its ack. Both go again now.
    publisher.retryNow();
    await tick();
    // (The two publishes are independent: which goes first again does not matter.)
    expect(
      attempts
        .slice(2)
        .map((attempt) => attempt.msgID)
        .sort()
    ).toEqual(['p.1', 'p.2']);
    for (const attempt of attempts.slice(2)) attempt.ack();
    await tick();
    expect(results).toEqual([true, true]);
  });

  it('without a reconnect, retries a failed publish after its backoff', async () => {
    const { js, attempts } = heldJetStream();
    const publisher = new ReliablePublisher(js, 'p', () => {});
    void publisher.publish('s', new Uint8Array([1]));
    await tick();
    attempts[0]!.fail(new Error('no responders'));
    await tick();
    expect(attempts).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(attempts).toHaveLength(2);
  });
});
