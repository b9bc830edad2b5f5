import { randomBytes } from 'node:crypto';
import { redactUrl } from '../normalize-url.ts';

/** Turns a peer id into the name the page shows. */
export type PeerNamer = (id: string) => string;

// Display names are cached per inspector: an id is redacted once, not on every event and stats tick.
const MAX_CACHED_NAMES = 100_000;

/** A 32-bit FNV-1a hash of `text`, started from `seed`, as 6 base-36 characters. */
function shortHash(text: string, seed: number): string {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0').slice(-6);
}

function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

/**
 * The page's name for a peer: its id through `redactUrl`, and when that masked
 * something (credentials, query values), ` #` and a short hash of the full id,
 * so two peers that differ only in a masked value can be told apart. The hash
 * is seeded at random per inspector: it tells ids apart within one inspector
 * and says nothing that could confirm a guessed secret elsewhere.
 */
export function createPeerNamer(seed = randomSeed()): PeerNamer {
  const names = new Map<string, string>();
  return (id) => {
    let name = names.get(id);
    if (name === undefined) {
      const redacted = redactUrl(id);
      name = redacted === id ? id : `${redacted} #${shortHash(id, seed)}`;
      if (names.size >= MAX_CACHED_NAMES) names.clear();
      names.set(id, name);
    }
    return name;
  };
}
