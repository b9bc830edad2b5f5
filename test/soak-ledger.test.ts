import { describe, expect, it } from 'vitest';
import { SequenceLedger } from './soak/ledger.ts';

// The soak run's accounting rule (test/soak/soak.ts): a message missing inside
// what a connection delivered is a loss; messages missing after the last one
// delivered were in flight when the connection died.

describe('SequenceLedger', () => {
  it('counts nothing lost for a gap-free prefix, whatever was written after it', () => {
    const ledger = new SequenceLedger();
    for (let seq = 0; seq < 5; seq++) ledger.record(1, seq);
    expect(ledger.summary()).toEqual({ connections: 1, delivered: 5, gaps: 0, disorder: 0 });
    expect(ledger.of(1)).toMatchObject({ delivered: 5, next: 5 });
  });

  it('counts each number missing inside a connection, including at its start', () => {
    const ledger = new SequenceLedger();
    for (const seq of [0, 1, 4, 5]) ledger.record(1, seq);
    for (const seq of [2, 3]) ledger.record(2, seq);
    expect(ledger.summary()).toMatchObject({ connections: 2, delivered: 6, gaps: 4, disorder: 0 });
  });

  it('counts repeats and reorderings separately from gaps', () => {
    const ledger = new SequenceLedger();
    for (const seq of [0, 1, 1, 3, 2]) ledger.record(7, seq);
    expect(ledger.summary()).toMatchObject({ gaps: 1, disorder: 2 });
  });
});
