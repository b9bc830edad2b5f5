import type { Event } from 'nostr-tools/pure';
import type { InboxMessage } from '../../src/types.ts';

/** Parses a relay message and verifies its event; the event when it verifies. */
export function verifyMessage(data: string | Uint8Array): Event | undefined;
/** The shard module's per-batch work: the verified events of the batch. */
export function process(batch: readonly Pick<InboxMessage, 'data'>[]): Event[];
