/**
 * The body of one shard thread: a plain honeybee pool driven by commands from
 * the main thread. Inbox messages go back in batches under a credit window, so
 * a main thread that stops reading makes this pool's inbox fill and its
 * sockets pause (the pool's own `block` backpressure), instead of piling
 * messages up in a MessagePort.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { HoneybeeError } from '../errors.ts';
import { createPool } from '../node.ts';
import type { PoolEvent } from '../types.ts';
import type { CommandFailure, ShardCommand, ShardReport, ThreadInit } from './protocol.ts';

/** Runs one shard on `port` until the main thread sends `close`. */
function runShard(port: MessagePort, init: ThreadInit): void {
  const pool = createPool({ ...init.pool, id: `${init.pool.id ?? 'honeybee'}/${init.shard}` });
  const post = (report: ShardReport): void => port.postMessage(report);
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
        } catch (error) {
          // The main thread saw the peer connected; it dropped in the meantime.
          refused('send', command.id, error);
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
  port.on('message', (commands: ShardCommand[]) => {
    for (const command of commands) apply(command);
  });

  const forwardInbox = async (): Promise<void> => {
    for await (const messages of pool.inbox.batches(init.maxBatch)) {
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      credits--;
      post({ type: 'inbox', messages });
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

if (parentPort !== null) runShard(parentPort, workerData as ThreadInit);
