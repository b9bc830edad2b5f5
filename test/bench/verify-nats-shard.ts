/**
 * One NATS shard of the verification bench, in its own process (forked by
 * verify.ts, configured by environment like test/nats/shard-process.ts,
 * `{ shard }` on IPC once it runs). `createShard` takes no shard module yet,
 * so the verification runs in the shard's transport instead: every frame a
 * socket reads is parsed and verified there (the same `verifyMessage` as the
 * thread shards' `process`), and only frames that verify reach the shard's
 * pool and the stream. Honeybee is loaded from the bench's build
 * (`HONEYBEE_ENTRY`) or the sources.
 */
import { connect } from '@nats-io/transport-node';
import type { Transport, TransportListener } from '../../src/transport.ts';
import { verifyMessage } from './verify-shard.mjs';

type NatsEntry = typeof import('../../src/nats/index.ts');
type NodeEntry = typeof import('../../src/node.ts');

const entry = process.env.HONEYBEE_ENTRY ?? '';
const { createShard } = (await (entry === '' ? import('../../src/nats/index.ts') : import(entry.replace(/node\.js$/, 'nats/index.js')))) as NatsEntry;
const { wsTransport } = (await (entry === '' ? import('../../src/node.ts') : import(entry))) as NodeEntry;

/** `ws`, passing on only the frames whose event verifies. */
const verifying: Transport = {
  ...wsTransport,
  open(url, options, listener) {
    const filtered: TransportListener = {
      onOpen: () => listener.onOpen(),
      onMessage: (data, byteLength) => {
        if (verifyMessage(data) !== undefined) listener.onMessage(data, byteLength);
      },
      onPong: () => listener.onPong(),
      onError: (message) => listener.onError(message),
      onFail: (error) => listener.onFail(error),
      onClose: (code, reason, cause) => listener.onClose(code, reason, cause)
    };
    return wsTransport.open(url, options, filtered);
  }
};

const env = process.env;
const nats = await connect({ servers: env.NATS_URL as string, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const shard = await createShard({
  nats,
  cluster: env.CLUSTER as string,
  shardId: env.SHARD_ID as string,
  leaseTtl: Number(env.LEASE_TTL ?? 2000),
  heartbeat: Number(env.HEARTBEAT ?? 500),
  maxBatch: Number(env.MAX_BATCH ?? 256),
  pool: { transport: verifying, inboxSize: Number(env.INBOX_SIZE ?? 128) }
});
process.send?.({ shard: shard.id });
process.on(
  'SIGTERM',
  () =>
    void shard
      .close()
      .then(() => nats.close())
      .then(() => process.exit(0))
);
