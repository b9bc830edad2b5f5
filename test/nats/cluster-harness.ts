/**
 * What the NATS lease and event tests share: shards in this process or in
 * their own (test/nats/shard-process.ts), a cluster client recording its
 * inbox and events, and checks over what it recorded against what the peer
 * server (test/helpers/sequence-server.ts) saw.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createClusterClient, createShard, type ClusterClient, type ClusterEvent, type Shard } from '../../src/nats/index.ts';
import type { SequenceFrame, SequenceServer } from '../helpers/sequence-server.ts';

/** Lease settings of one test cluster. */
export interface Lease {
  readonly leaseTtl: number;
  readonly heartbeat: number;
}

/** A shard running in the test's own process, on its own NATS connection. */
export interface LocalShard {
  readonly id: string;
  readonly shard: Shard;
  readonly nc: NatsConnection;
  stop(): Promise<void>;
}

/** `reconnectTimeWait` staggers shards' returns after a server restart, as NATS's default 2 s wait with jitter does. */
export async function startLocalShard(natsUrl: string, cluster: string, id: string, lease: Lease, reconnectTimeWait = 100): Promise<LocalShard> {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait });
  const shard = await createShard({
    nats: nc,
    cluster,
    shardId: id,
    ...lease,
    // A fenced shard's sockets are paused (its inbox is full while NATS is away): they cannot read the peer's
    // answer to their close frame, and end closeTimeout later. The peer sees them closing from the fence on.
    pool: { reconnectDelay: 100, retry: { initialDelay: 50, maxDelay: 500 }, closeTimeout: 250 }
  });
  return {
    id,
    shard,
    nc,
    stop: async () => {
      await shard.close();
      await nc.close();
    }
  };
}

/** A shard in its own process (so it can be killed or paused), reporting how many peers it holds. */
export interface ProcessShard {
  readonly id: string;
  readonly child: ChildProcess;
  held: number;
  readonly started: Promise<void>;
  readonly exited: Promise<void>;
}

export function startProcessShard(natsUrl: string, cluster: string, id: string, lease: Lease): ProcessShard {
  const child = fork(new URL('./shard-process.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NATS_URL: natsUrl, CLUSTER: cluster, SHARD_ID: id, LEASE_TTL: String(lease.leaseTtl), HEARTBEAT: String(lease.heartbeat) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = new Promise<void>((resolve) => child.once('message', () => resolve()));
  const shard: ProcessShard = { id, child, held: 0, started, exited };
  child.on('message', (message: { held: number }) => (shard.held = message.held));
  return shard;
}

/** A cluster client that records everything it reads. */
export interface Recorder {
  readonly client: ClusterClient;
  readonly nc: NatsConnection;
  /** Every event, in the order the client's `events` gave them. */
  readonly events: ClusterEvent[];
  /** Every inbox message as (peer id, epoch, seq, the peer server's frame). */
  readonly messages: Array<{ id: string; epoch: number; seq: number; frame: SequenceFrame }>;
  close(): Promise<void>;
}

export async function startRecorder(natsUrl: string, cluster: string): Promise<Recorder> {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const client = await createClusterClient({ nats: nc, cluster });
  const events: ClusterEvent[] = [];
  const messages: Recorder['messages'] = [];
  void (async () => {
    for await (const batch of client.inbox.batches()) {
      for (const { id, epoch, seq, data } of batch) messages.push({ id, epoch, seq, frame: JSON.parse(String(data)) as SequenceFrame });
    }
  })();
  void (async () => {
    for await (const event of client.events) events.push(event);
  })();
  return {
    client,
    nc,
    events,
    messages,
    close: async () => {
      await client.close();
      await nc.close();
    }
  };
}

/**
 * What breaks the promise that `(epoch, seq)` orders each peer's stream: a
 * connection whose frames carry more than one epoch, or a peer whose frames,
 * sorted by `(epoch, seq)`, are not in the order the peer server sent them
 * (connection by connection, frame by frame). Empty when all is well.
 */
export function orderViolations(messages: Recorder['messages']): string[] {
  const problems: string[] = [];
  const epochOfConnection = new Map<number, number>();
  const byPeer = new Map<string, Recorder['messages']>();
  for (const message of messages) {
    const known = epochOfConnection.get(message.frame.c);
    if (known === undefined) epochOfConnection.set(message.frame.c, message.epoch);
    else if (known !== message.epoch)
      problems.push(`connection ${message.frame.c} of ${message.id}: frame ${message.frame.s} has epoch ${message.epoch}, earlier ones ${known}`);
    byPeer.set(message.id, [...(byPeer.get(message.id) ?? []), message]);
  }
  for (const [id, list] of byPeer) {
    const sorted = [...list].sort((a, b) => a.epoch - b.epoch || a.seq - b.seq);
    for (let i = 1; i < sorted.length; i++) {
      const before = sorted[i - 1]?.frame;
      const after = sorted[i]?.frame;
      if (before === undefined || after === undefined) continue;
      if (after.c < before.c || (after.c === before.c && after.s <= before.s)) {
        problems.push(`${id}: by (epoch, seq) frame c${after.c}/s${after.s} comes after c${before.c}/s${before.s}`);
        break;
      }
    }
  }
  return problems.slice(0, 10);
}

/** Where `connected` and `disconnected` fail to alternate per peer, or an epoch goes back. Empty when all is well. */
export function eventViolations(events: readonly ClusterEvent[]): string[] {
  const problems: string[] = [];
  const last = new Map<string, ClusterEvent>();
  for (const event of events) {
    if (event.kind !== 'connected' && event.kind !== 'disconnected') continue;
    const before = last.get(event.id);
    if (before !== undefined && event.epoch < before.epoch) problems.push(`${event.id}: ${event.kind} of epoch ${event.epoch} after epoch ${before.epoch}`);
    if (before !== undefined && before.kind === event.kind) problems.push(`${event.id}: two ${event.kind} in a row (epochs ${before.epoch}, ${event.epoch})`);
    last.set(event.id, event);
  }
  return problems.slice(0, 10);
}

/** Connections the peer server closed per path since `since` (epoch ms). */
export function closesSince(server: SequenceServer, since: number): Map<string, number> {
  const closes = new Map<string, number>();
  for (const [path, spans] of server.history) closes.set(path, spans.filter((span) => span.close !== undefined && span.close >= since).length);
  return closes;
}

/** How long each path went without a connection across the handovers after `since` (epoch ms), sorted. */
export function handoverGaps(server: SequenceServer, paths: Iterable<string>, since: number): number[] {
  const gaps: number[] = [];
  for (const path of paths) {
    const spans = server.history.get(path) ?? [];
    for (let i = 1; i < spans.length; i++) {
      const closed = spans[i - 1]?.close;
      if (closed !== undefined && closed >= since) gaps.push((spans[i]?.open ?? 0) - closed);
    }
  }
  return gaps.sort((a, b) => a - b);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
