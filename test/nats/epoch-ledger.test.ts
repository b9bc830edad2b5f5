import { describe, expect, it } from 'vitest';
import { EpochLedger } from '../../src/nats/exporter.ts';

describe('EpochLedger', () => {
  it('stamps each frame with the epoch it was read under, however late the exporter takes it', () => {
    const ledger = new EpochLedger();
    ledger.open('a', 5, 0);
    // Frames 0 and 1 are a's under epoch 5; the claim moves (epoch 9) once 2 frames were written.
    ledger.open('a', 9, 2);
    expect([ledger.frame('a'), ledger.frame('a'), ledger.frame('a')]).toEqual([
      { epoch: 5, seq: 1 },
      { epoch: 5, seq: 2 },
      { epoch: 9, seq: 1 }
    ]);
    expect(ledger.event('a')).toEqual({ epoch: 9, seq: 1 });
  });

  it('keeps a forgotten peer until the exporter has taken every frame written before, then lets it go', () => {
    const ledger = new EpochLedger();
    ledger.open('a', 3, 0);
    ledger.open('b', 4, 0);
    // a's worker ends with 4 frames written (a, b, a, a), none taken yet.
    ledger.forget('a', 4);
    expect(ledger.size).toBe(2);
    expect(ledger.frame('a')).toEqual({ epoch: 3, seq: 1 });
    expect(ledger.frame('b')).toEqual({ epoch: 4, seq: 1 });
    expect(ledger.frame('a')).toEqual({ epoch: 3, seq: 2 });
    expect(ledger.size).toBe(2);
    // The last frame written before the end: still a's epoch, and then a is gone.
    expect(ledger.frame('a')).toEqual({ epoch: 3, seq: 3 });
    expect(ledger.size).toBe(1);
  });

  it('lets a peer go at once when its frames were all taken already', () => {
    const ledger = new EpochLedger();
    ledger.open('a', 3, 0);
    ledger.frame('a');
    ledger.forget('a', 1);
    expect(ledger.size).toBe(0);
    ledger.forget('never-held', 1);
    expect(ledger.size).toBe(0);
  });

  it('keeps a peer claimed again before its entry went, under its new epoch', () => {
    const ledger = new EpochLedger();
    ledger.open('a', 3, 0);
    ledger.forget('a', 2);
    ledger.open('a', 8, 2);
    ledger.frame('a');
    ledger.frame('a');
    expect(ledger.size).toBe(1);
    expect(ledger.frame('a')).toEqual({ epoch: 8, seq: 1 });
    expect(ledger.event('a')).toEqual({ epoch: 8, seq: 1 });
  });

  it('does not grow with peer ids that come and go', () => {
    const ledger = new EpochLedger();
    let written = 0;
    for (let i = 0; i < 10_000; i++) {
      const id = `ws://relay/${i}`;
      ledger.open(id, i + 1, written);
      for (let f = 0; f < 3; f++) {
        written++;
        expect(ledger.frame(id).epoch).toBe(i + 1);
      }
      ledger.forget(id, written);
    }
    expect(ledger.size).toBe(0);
  });
});
