/* global TextDecoder */
// The shard module of the verification bench, in plain JavaScript: a thread of
// the compiled package has no TypeScript loader, so the module a user hands a
// thread is JavaScript, and so is this one. Every thread shard and NATS shard
// imports it by URL; its `process` verifies each message of an inbox batch
// where the socket is, and only the verified events cross. The one-pool setup
// calls the same `verifyMessage` in its consumer. (Named exports only: the
// module loads nothing of honeybee's.)
import { verifyEvent } from 'nostr-tools/pure';

/**
 * Parses a relay message afresh and checks its event's id and Schnorr
 * signature (nostr-tools marks a checked object, so each frame gets a new
 * one); returns the event when it verifies.
 */
export function verifyMessage(data) {
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
  const message = JSON.parse(text);
  if (!Array.isArray(message) || message[0] !== 'EVENT') return undefined;
  const event = message[2];
  return verifyEvent(event) ? event : undefined;
}

/** Verifies every message of the batch; what it returns (the verified events) is what crosses. */
export function process(batch) {
  const verified = [];
  for (const message of batch) {
    const event = verifyMessage(message.data);
    if (event !== undefined) verified.push(event);
  }
  return verified;
}
