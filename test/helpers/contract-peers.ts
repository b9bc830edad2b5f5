import { randomUUID } from 'node:crypto';
import { makeAuthEvent } from 'nostr-tools/nip42';
import { finalizeEvent, generateSecretKey, verifyEvent, type VerifiedEvent } from 'nostr-tools/pure';
import { authWorkerMachine } from '../../machines/examples/auth-worker-machine.ts';
import { signerFrom } from '../../machines/examples/auth-protocol.ts';
import { probeWorkerMachine } from '../../machines/examples/probe-worker-machine.ts';
import type { ContractPeer, KitSocket } from '../../src/testkit/index.ts';

/** A NIP-42 relay's side of AUTH: a fresh challenge per connection, OK true only for a valid signed answer. */
export function nostrAuthPeer(): ContractPeer & { readonly authenticated: number; readonly rejected: number } {
  const challenges = new WeakMap<KitSocket, string>();
  let authenticated = 0;
  let rejected = 0;
  return {
    get authenticated() {
      return authenticated;
    },
    get rejected() {
      return rejected;
    },
    onConnection(socket) {
      const challenge = randomUUID();
      challenges.set(socket, challenge);
      socket.send(JSON.stringify(['AUTH', challenge]));
    },
    onMessage(socket, data) {
      if (typeof data !== 'string' || !data.startsWith('["AUTH"')) return false;
      const [, event] = JSON.parse(data) as [string, VerifiedEvent];
      const challenge = challenges.get(socket);
      const ok = verifyEvent(event) && event.kind === 22242 && event.tags.some(([name, value]) => name === 'challenge' && value === challenge);
      if (ok) authenticated += 1;
      else rejected += 1;
      socket.send(JSON.stringify(['OK', event.id, ok, ok ? '' : 'auth-required: invalid AUTH event']));
      return true;
    }
  };
}

/** Signs NIP-42 AUTH events with a fresh key, the way a Nostr client would. */
export function nostrSigner(secretKey = generateSecretKey()): ReturnType<typeof signerFrom> {
  return signerFrom((challenge, id) => finalizeEvent(makeAuthEvent(id, challenge), secretKey));
}

/** The auth example, ready for a pool: NIP-42 signer. */
export const nostrAuthLogic = authWorkerMachine.provide({ actors: { handshake: nostrSigner() } });

/** The auth example with a signer whose answer the relay rejects. */
export const badSignerLogic = authWorkerMachine.provide({
  actors: {
    handshake: signerFrom(async (challenge) => ({ id: 'forged', kind: 22242, tags: [['challenge', challenge]] }))
  }
});

/** The probe example, as a pool runs it. */
export const probeLogic = probeWorkerMachine;

/** A peer that echoes probes, and only probes. */
export function probeAnsweringPeer(probe = '["PROBE"]'): ContractPeer & { readonly answered: number } {
  let answered = 0;
  return {
    get answered() {
      return answered;
    },
    onMessage(socket, data) {
      if (data !== probe) return false;
      answered += 1;
      socket.send(probe);
      return true;
    }
  };
}
