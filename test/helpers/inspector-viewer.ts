import { expect } from 'vitest';
import { WebSocket } from 'ws';
import type { WireMessage } from '../../src/inspector/wire.ts';

/** A stand-in for the inspector page: a WebSocket client that keeps every batch it receives. */
export interface Viewer {
  /** Every message received, in order. */
  readonly messages: WireMessage[];
  /** The raw text frames, exactly as sent. */
  readonly frames: string[];
  /** The underlying socket (to see how the inspector closes it). */
  readonly socket: WebSocket;
  /** Polls until some received message matches, and returns it. */
  waitFor<T extends WireMessage>(predicate: (message: WireMessage) => message is T, timeout?: number): Promise<T>;
  waitFor(predicate: (message: WireMessage) => boolean, timeout?: number): Promise<WireMessage>;
  close(): Promise<void>;
}

/** The inspector's WebSocket address for its page URL (same token). */
export function socketUrl(pageUrl: string, token?: string): string {
  const url = new URL(pageUrl);
  url.protocol = 'ws:';
  url.pathname = '/ws';
  if (token !== undefined) url.searchParams.set('token', token);
  return url.href;
}

/** Connects to an inspector like its page does. */
export async function openViewer(pageUrl: string): Promise<Viewer> {
  const ws = new WebSocket(socketUrl(pageUrl));
  const messages: WireMessage[] = [];
  const frames: string[] = [];
  ws.on('message', (data) => {
    const text = String(data);
    frames.push(text);
    messages.push(...(JSON.parse(text) as WireMessage[]));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waitFor = async (predicate: (message: WireMessage) => boolean, timeout = 5000): Promise<WireMessage> => {
    await expect.poll(() => messages.some(predicate), { timeout, interval: 20 }).toBe(true);
    return messages.find(predicate) as WireMessage;
  };
  return {
    messages,
    frames,
    socket: ws,
    waitFor: waitFor as Viewer['waitFor'],
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      })
  };
}

/** Opens a WebSocket and resolves with the HTTP status of a refused upgrade, or 101 if it opened. */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    // terminate() while CONNECTING emits 'error' once more: keep a listener for it.
    ws.on('error', (error) => reject(error));
  });
}
