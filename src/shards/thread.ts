/**
 * The body of one shard thread: a plain honeybee pool driven by commands from
 * the main thread. Inbox messages go back in batches under a credit window, so
 * a main thread that stops reading makes this pool's inbox fill and its
 * sockets pause (the pool's own `block` backpressure), instead of piling
 * messages up in a MessagePort.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { describeValue, errorText, HoneybeeError, ShardModuleError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { createPool } from '../node.ts';
import { wsBytesTransport } from '../transports/ws.ts';
import type { InboxMessage, PoolEvent } from '../types.ts';
import type { CommandFailure, LogLine, ShardCommand, ShardReport, ThreadInit } from './protocol.ts';
import { loadShardModule, runProcess, type LoadedShardModule, type ShardContext } from './shard-module.ts';
import { toWire } from './wire-error.ts';

/** A logger whose lines are posted to the main thread, one post per turn. */
function forwardingLogger(post: (report: ShardReport) => void, bindings: Record<string, unknown> = {}): Logger {
  let lines: LogLine[] = [];
  const flush = (): void => {
    const taken = lines;
    lines = [];
    try {
      post({ type: 'log', lines: taken });
    } catch {
      // A field that cannot be cloned (a function, a socket): send the lines as text instead.
      post({ type: 'log', lines: taken.map((line) => ({ ...line, fields: safeFields(line.fields) })) });
    }
  };
  const make = (bound: Record<string, unknown>): Logger => {
    const write =
      (level: LogLine['level']) =>
      (fields: unknown, message?: string): void => {
        if (lines.length === 0) setImmediate(flush);
        const merged = typeof fields === 'object' && fields !== null && !(fields instanceof Error) ? { ...bound, ...fields } : fields;
        lines.push(typeof fields === 'string' ? { level, fields: bound, message: fields } : { level, fields: merged, message });
      };
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (more) => make({ ...bound, ...more }) };
  };
  return make(bindings);
}

function safeFields(fields: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'function' ? describeValue(value) : value))) as unknown;
  } catch {
    return describeValue(fields);
  }
}

/** Packs inbox messages by column for the crossing (see `PackedBatch`). */
function packBatch(batch: readonly InboxMessage[]): ShardReport {
  const count = batch.length;
  const ids: string[] = [];
  const peer = new Uint32Array(count);
  const receivedAt = new Float64Array(count);
  const data = new Array<string | Uint8Array>(count);
  const peers = new PeerIndex(ids);
  for (let i = 0; i < count; i++) {
    const message = batch[i] as InboxMessage;
    peer[i] = peers.of(message.id);
    receivedAt[i] = message.receivedAt;
    data[i] = message.data;
  }
  return { type: 'packed', ids, peer, receivedAt, data };
}

/** Numbers a batch's peers in order of first appearance, into `ids`. */
class PeerIndex {
  readonly #index = new Map<string, number>();
  // Frames come in runs from one peer: remember the last id before asking the map.
  #lastId = '';
  #last = -1;

  constructor(readonly ids: string[]) {}

  of(id: string): number {
    if (id === this.#lastId && this.#last >= 0) return this.#last;
    this.#lastId = id;
    let at = this.#index.get(id);
    if (at === undefined) {
      at = this.ids.length;
      this.ids.push(id);
      this.#index.set(id, at);
    }
    this.#last = at;
    return at;
  }
}

/** Buffers handed back by the main thread, for {@link packFrames} to fill again. */
const spareBuffers: ArrayBuffer[] = [];
// Below this a buffer is not worth keeping; above the largest batch seen, it is not needed.
const MIN_BUFFER = 64 * 1024;

/** A buffer of at least `size` bytes: a spare one if there is one large enough. */
function bufferFor(size: number): ArrayBuffer {
  for (let i = spareBuffers.length - 1; i >= 0; i--) {
    const spare = spareBuffers[i] as ArrayBuffer;
    if (spare.byteLength >= size) {
      spareBuffers.splice(i, 1);
      return spare;
    }
  }
  let capacity = MIN_BUFFER;
  while (capacity < size) capacity *= 2;
  return new ArrayBuffer(capacity);
}

/**
 * Packs frames delivered as bytes (`wsBytesTransport`: text as a Buffer,
 * binary as a plain Uint8Array) into one buffer, to be transferred.
 */
function packFrames(batch: readonly InboxMessage[]): { report: ShardReport; transfer: ArrayBuffer } {
  const count = batch.length;
  const ids: string[] = [];
  const peer = new Uint32Array(count);
  const receivedAt = new Float64Array(count);
  const ends = new Uint32Array(count);
  const binary = new Uint8Array(count);
  const peers = new PeerIndex(ids);
  let size = 0;
  for (let i = 0; i < count; i++) size += (batch[i] as InboxMessage).data.length;
  const buffer = bufferFor(size);
  const bytes = new Uint8Array(buffer, 0, size);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const message = batch[i] as InboxMessage;
    peer[i] = peers.of(message.id);
    receivedAt[i] = message.receivedAt;
    const data = message.data as Uint8Array;
    bytes.set(data, offset);
    offset += data.length;
    ends[i] = offset;
    if (!Buffer.isBuffer(data)) binary[i] = 1;
  }
  return { report: { type: 'frames', ids, peer, receivedAt, ends, binary, bytes: buffer }, transfer: buffer };
}

/** Runs one shard on `port` until the main thread sends `close`. */
async function runShard(port: MessagePort, init: ThreadInit): Promise<void> {
  const post = (report: ShardReport): void => port.postMessage(report);
  let module: LoadedShardModule | undefined;
  if (init.module !== undefined) {
    try {
      module = await loadShardModule(init.module);
    } catch (error) {
      const reason = error instanceof ShardModuleError ? error.reason : errorText(error);
      // No listener and no pool: the thread ends by itself once this is posted.
      post({ type: 'module-failed', module: init.module, message: reason });
      return;
    }
  }
  const poolId = `${init.pool.id ?? 'honeybee'}/${init.shard}`;
  // The default worker and no `process`: nothing here reads a frame, so frames cross undecoded.
  const asBytes = module === undefined || (module.workerFactory === undefined && module.transport === undefined && module.process === undefined);
  const transport = asBytes ? wsBytesTransport : module?.transport;
  const pool = createPool({
    ...init.pool,
    id: poolId,
    ...(module?.workerFactory === undefined ? {} : { workerFactory: module.workerFactory }),
    ...(transport === undefined ? {} : { transport })
  });
  const context: ShardContext = { shard: init.shard, pool: poolId, logger: forwardingLogger(post) };
  let credits = init.window;
  let wake: (() => void) | undefined;
  let failures: CommandFailure[] = [];

  const takeFailures = (): CommandFailure[] => {
    const taken = failures;
    failures = [];
    return taken;
  };
  const refused = (op: CommandFailure['op'], id: string, error: unknown): void => {
    const code = error instanceof HoneybeeError ? error.code : 'ERR';
    failures.push({ op, id, code, message: error instanceof Error ? error.message : String(error) });
  };
  const apply = (command: ShardCommand): void => {
    switch (command.op) {
      case 'connect':
        try {
          pool.connect(command.url, command.options);
        } catch (error) {
          refused('connect', command.url, error);
        }
        return;
      case 'send':
        try {
          pool.send(command.id, command.data);
          if (command.ticket !== undefined) verdicts.ok.push(command.ticket);
        } catch (error) {
          // The main thread saw the peer connected; it dropped in the meantime.
          if (command.ticket === undefined) refused('send', command.id, error);
          else verdicts.failed.push({ ticket: command.ticket, error: toWire(error) });
        }
        return;
      case 'remove':
        return remove(command.id);
      case 'reconnect':
        try {
          pool.reconnect(command.id);
        } catch (error) {
          refused('reconnect', command.id, error);
        }
        return;
      case 'ack':
        if (command.buffer !== undefined && spareBuffers.length < init.window + 1) spareBuffers.push(command.buffer);
        credits++;
        wake?.();
        return;
      case 'close':
        void close();
        return;
    }
  };
  const remove = (id: string): void => {
    let removed: Promise<void>;
    try {
      removed = pool.remove(id);
    } catch {
      // Retired meanwhile: it has already left this pool, and `retired` went out with its events.
      removed = Promise.resolve();
    }
    // Two turns: the final events' flush (scheduled with setImmediate when they arrived) goes first.
    void removed.then(() => setImmediate(() => setImmediate(() => post({ type: 'removed', id }))));
  };
  let verdicts: Extract<ShardReport, { type: 'verdicts' }> = { type: 'verdicts', ok: [], failed: [] };
  port.on('message', (commands: ShardCommand[]) => {
    for (const command of commands) apply(command);
    // Sends are settled synchronously: their verdicts go back in one post per command batch.
    if (verdicts.ok.length !== 0 || verdicts.failed.length !== 0) {
      post(verdicts);
      verdicts = { type: 'verdicts', ok: [], failed: [] };
    }
  });

  const failedBatch = module?.failedBatch ?? 'drop';
  /** Reports a failed `process`; returns what crosses instead (the batch itself under `'pass'`). */
  const processFailed = (batch: InboxMessage[], reason: string): InboxMessage[] | undefined => {
    const fate = failedBatch === 'pass' ? 'passed' : 'dropped';
    post({ type: 'process-error', messages: batch.length, fate, reason });
    return fate === 'passed' ? batch : undefined;
  };
  const processed = async (batch: InboxMessage[]): Promise<readonly unknown[] | undefined> => {
    if (module?.process === undefined) return batch;
    const outcome = await runProcess(module.process, batch, context);
    return outcome.ok ? outcome.values : processFailed(batch, outcome.reason);
  };
  const cross = (batch: InboxMessage[], values: readonly unknown[]): void => {
    if (values === batch && asBytes) {
      const { report, transfer } = packFrames(batch);
      port.postMessage(report, [transfer]);
      return;
    }
    if (values === batch) return post(packBatch(batch));
    try {
      post({ type: 'inbox', messages: values as unknown[] });
      return;
    } catch (error) {
      const passed = processFailed(batch, `its result cannot cross to the main thread (${errorText(error)})`);
      if (passed !== undefined) post(packBatch(passed));
      else credits++;
    }
  };
  const forwardInbox = async (): Promise<void> => {
    for await (const batch of pool.inbox.batches(init.maxBatch)) {
      // The work runs before the wait for credit: it overlaps the main thread taking the previous batch.
      const values = await processed(batch);
      if (values === undefined || values.length === 0) continue;
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      credits--;
      cross(batch, values);
    }
  };
  const forwardEvents = async (): Promise<void> => {
    let pending: PoolEvent[] = [];
    const flush = (): void => {
      if (pending.length === 0) return;
      post({ type: 'events', events: pending });
      pending = [];
    };
    for await (const event of pool.events) {
      if (pending.length === 0) setImmediate(flush);
      pending.push(event);
    }
    flush();
  };
  const forwarding = Promise.all([forwardInbox(), forwardEvents()]);
  const statsTimer = setInterval(() => post({ type: 'stats', stats: pool.stats(), failures: takeFailures() }), init.statsInterval);

  async function close(): Promise<void> {
    clearInterval(statsTimer);
    // While closing the main thread acknowledges at once, so the last batches flow.
    await pool.close();
    await forwarding;
    post({ type: 'closed', stats: pool.stats(), failures: takeFailures() });
  }
  post({ type: 'ready' });
}

if (parentPort !== null) void runShard(parentPort, workerData as ThreadInit);
