import { LAST_SEQ, type ClusterEvent } from './envelope.ts';

/** What a reader last passed on for one peer. */
interface PeerState {
  epoch: number;
  shard: string;
  open: boolean;
  /** A `disconnected` of `epoch` was passed on: that connection is over, and a late `connected` of it is stale. */
  ended: boolean;
}

/**
 * Keeps one reader's view of the cluster's events in order per peer: epochs
 * never go back, and `connected` and `disconnected` alternate. Shards publish
 * on separate subjects, and a shard that was killed or cut off says nothing
 * (or says it late), so the raw stream can repeat or skip an end:
 * - an event of an epoch older than one already passed on is left out (its
 *   connection's end was passed on already, reported by whoever saw it);
 * - a repeated `connected` or `disconnected` within an epoch is left out
 *   (an `owner_lost` after the holder's own `disconnected`, or the reverse),
 *   and so is anything of an epoch whose end was passed on already (a cut-off
 *   holder's `connected`, published after it came back, of a connection
 *   whose `owner_lost` another shard reported meanwhile);
 * - an event of a newer epoch while an older epoch's connection is still
 *   open is preceded by that connection's `disconnected` (`owner_lost`,
 *   code 1006), made here; a newer epoch's own `disconnected` closes it
 *   instead (that epoch's `connected` was lost with its shard).
 */
export class EventOrder {
  readonly #peers = new Map<string, PeerState>();

  /** The events to pass on for `event`, in order (none, it, or an `owner_lost` and it). */
  take(event: ClusterEvent): ClusterEvent[] {
    const state = this.#peers.get(event.id);
    if (state === undefined) {
      this.#peers.set(event.id, { epoch: event.epoch, shard: event.shard, open: event.kind === 'connected', ended: event.kind === 'disconnected' });
      return [event];
    }
    if (event.epoch < state.epoch || (event.epoch === state.epoch && state.ended)) return [];
    const out: ClusterEvent[] = [];
    if (event.epoch > state.epoch) {
      // A newer epoch's disconnected closes what was open itself (its connected died with its shard).
      if (state.open && event.kind === 'disconnected') {
        Object.assign(state, { epoch: event.epoch, shard: event.shard, open: false, ended: true });
        return [event];
      }
      if (state.open) out.push(lost(event, state));
      state.epoch = event.epoch;
      state.open = false;
      state.ended = false;
    }
    state.shard = event.shard;
    if (event.kind === 'connected' || event.kind === 'disconnected') {
      const opens = event.kind === 'connected';
      if (opens === state.open) {
        // A disconnected with nothing open still ends its epoch (its connected was lost, or is late).
        if (!opens) state.ended = true;
        return out;
      }
      state.open = opens;
      state.ended = !opens;
    }
    out.push(event);
    return out;
  }
}

/** The `disconnected` of `state`'s connection, which its shard never reported. */
function lost(next: ClusterEvent, state: PeerState): ClusterEvent {
  return {
    kind: 'disconnected',
    id: next.id,
    at: next.at,
    code: 1006,
    reason: `shard ${state.shard} lost the peer without a word`,
    cause: 'owner_lost',
    shard: state.shard,
    epoch: state.epoch,
    seq: LAST_SEQ
  };
}
