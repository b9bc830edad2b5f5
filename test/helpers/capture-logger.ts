import { Writable } from 'node:stream';
import { pino, type Level, type Logger } from 'pino';

/**
 * A pino logger at `level` whose every line lands in `lines` (one JSON string
 * per line), for tests that read what the library logged.
 */
export function captureLogger(level: Level, lines: string[] = []): { logger: Logger; lines: string[] } {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line) => line !== '')
      );
      callback();
    }
  });
  return { logger: pino({ level }, destination), lines };
}
