/**
 * What travels on the cluster's stream. Inbox messages and events carry the
 * shard that read them, the epoch (the revision of that shard's claim on the
 * peer: it only grows as the peer changes hands) and a sequence number within
 * the epoch, so a consumer can order and de-duplicate across handovers:
 * `(epoch, seq)` increases along one peer's history.
 */
import type { DisconnectCause, PoolEvent } from '../types.ts';

/** One received message, as a cluster consumer reads it. */
export interface ClusterMessage {
  readonly id: string;
  /** A string for text frames, a Uint8Array for binary frames. */
  readonly data: string | Uint8Array;
  readonly receivedAt: number;
  readonly shard: string;
  readonly epoch: number;
  /** Position within the epoch, from 1, counting this peer's messages. */
  readonly seq: number;
}

/**
 * Why a cluster connection ended: the pool's causes, and `owner_lost` when
 * the shard that held it stopped renewing its lease (killed, paused, cut off)
 * and whoever noticed reports the end for it (code 1006).
 */
export type ClusterDisconnectCause = DisconnectCause | 'owner_lost';

type Disconnected = Extract<PoolEvent, { kind: 'disconnected' }>;

/**
 * One lifecycle event, as a cluster consumer reads it: `shard` is the shard
 * whose connection it is about, `epoch` the claim it happened under, `seq`
 * its place among that peer's events of the epoch (an `owner_lost` closes its
 * epoch, with `seq` `Number.MAX_SAFE_INTEGER`).
 */
export type ClusterEvent = (Exclude<PoolEvent, Disconnected> | { readonly [K in keyof Disconnected]: K extends 'cause' ? ClusterDisconnectCause : Disconnected[K] }) & {
  readonly shard: string;
  readonly epoch: number;
  readonly seq: number;
};

/** The `seq` of an `owner_lost` event: after every event of its epoch. */
export const LAST_SEQ = Number.MAX_SAFE_INTEGER;

/** A row of an inbox batch on the wire: id, epoch, seq, receivedAt, data (base64 when binary), binary flag. */
type WireMessage = [string, number, number, number, string, 0 | 1];

interface WireInbox {
  readonly shard: string;
  readonly m: WireMessage[];
}

/** An inbox batch after a shard module's `process`: its values, each already JSON. */
interface WireValues {
  readonly shard: string;
  readonly v: unknown[];
}

/** Encodes what a shard module's `process` returned (each value's JSON text) into one stream message. */
export function encodeValues(shard: string, json: readonly string[]): Uint8Array {
  return encoder.encode(`{"shard":${JSON.stringify(shard)},"v":[${json.join(',')}]}`);
}

interface WireEvents {
  readonly shard: string;
  readonly e: ClusterEvent[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes messages of one shard into one stream message. */
export function encodeInbox(shard: string, rows: ReadonlyArray<Omit<ClusterMessage, 'shard'>>): Uint8Array {
  const m: WireMessage[] = rows.map((row) =>
    typeof row.data === 'string'
      ? [row.id, row.epoch, row.seq, row.receivedAt, row.data, 0]
      : [row.id, row.epoch, row.seq, row.receivedAt, Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength).toString('base64'), 1]
  );
  return encoder.encode(JSON.stringify({ shard, m } satisfies WireInbox));
}

/** Decodes a stream message made by {@link encodeInbox}. */
export function decodeInbox(bytes: Uint8Array): ClusterMessage[] {
  const wire = JSON.parse(decoder.decode(bytes)) as WireInbox | WireValues;
  // What a shard module's `process` returned travels as is: the reader gets those values, not messages.
  if ('v' in wire) return wire.v as ClusterMessage[];
  const { shard, m } = wire;
  return m.map(([id, epoch, seq, receivedAt, data, binary]) => ({
    id,
    epoch,
    seq,
    receivedAt,
    shard,
    data: binary === 1 ? new Uint8Array(Buffer.from(data, 'base64')) : data
  }));
}

/** Encodes events of one shard into one stream message. */
export function encodeEvents(shard: string, events: ClusterEvent[]): Uint8Array {
  return encoder.encode(JSON.stringify({ shard, e: events } satisfies WireEvents));
}

/** Decodes a stream message made by {@link encodeEvents}. */
export function decodeEvents(bytes: Uint8Array): ClusterEvent[] {
  return (JSON.parse(decoder.decode(bytes)) as WireEvents).e;
}

/** A routed send on the wire. */
export interface SendRequest {
  readonly id: string;
  readonly data: string;
  readonly binary: boolean;
}

/** The owner's answer to a routed send. */
export type SendReply = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/** JSON in, bytes out. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Bytes in, JSON out. */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}
