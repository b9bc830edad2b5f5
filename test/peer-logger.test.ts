import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../src/logger.ts';
import { PeerLogger } from '../src/peer-logger.ts';

function recorder(enabled: (level: string) => boolean, children: Array<Record<string, unknown>>, lines: unknown[][]) {
  const make = (bindings: Record<string, unknown>): Logger & { isLevelEnabled(level: string): boolean } => {
    const at =
      (level: string) =>
      (...args: unknown[]): void =>
        void lines.push([level, bindings, ...args]);
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      isLevelEnabled: enabled,
      child: (more) => {
        children.push(more);
        return make({ ...bindings, ...more });
      }
    };
  };
  return make({});
}

describe('PeerLogger', () => {
  it('creates the peer child only when a line is written at an enabled level, then once', () => {
    const children: Array<Record<string, unknown>> = [];
    const lines: unknown[][] = [];
    const logger = new PeerLogger(
      recorder((level) => level !== 'debug', children, lines),
      'ws://peer'
    );
    logger.debug('registered');
    expect(children).toEqual([]);
    logger.info({ code: 1000 }, 'disconnected');
    logger.warn('dial failed %s', 'x');
    expect(children).toEqual([{ peer: 'ws://peer' }]);
    expect(lines).toEqual([
      ['info', { peer: 'ws://peer' }, { code: 1000 }, 'disconnected'],
      ['warn', { peer: 'ws://peer' }, 'dial failed %s', 'x']
    ]);
  });

  it('gives a logger without isLevelEnabled its child on the first line, and child() builds on it', () => {
    const children: Array<Record<string, unknown>> = [];
    const lines: unknown[][] = [];
    const base = recorder(() => true, children, lines);
    const plain: Logger = { debug: base.debug, info: base.info, warn: base.warn, error: base.error, child: base.child };
    const logger = new PeerLogger(plain, 'ws://peer');
    logger.child({ part: 'tap' }).error('x');
    expect(children).toEqual([{ peer: 'ws://peer' }, { part: 'tap' }]);
    expect(lines).toEqual([['error', { peer: 'ws://peer', part: 'tap' }, 'x']]);
  });

  it('writes the same line as a pino child would', () => {
    const out: string[] = [];
    const root = pino({ level: 'info', base: null, timestamp: false }, { write: (line: string) => void out.push(line) });
    new PeerLogger(root, 'ws://peer').info({ code: 1000 }, 'disconnected');
    root.child({ peer: 'ws://peer' }).info({ code: 1000 }, 'disconnected');
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(out[1]);
    new PeerLogger(root, 'ws://peer').debug('dropped');
    expect(out).toHaveLength(2);
  });
});
