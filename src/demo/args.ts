import { HoneybeeError } from '../errors.ts';
import { normalizeUrl } from '../normalize-url.ts';

/** What the demo was asked to do. */
export type DemoCommand =
  | {
      readonly kind: 'run';
      /** Run this long, then close; `undefined` runs until SIGINT/SIGTERM. */
      readonly durationMs: number | undefined;
      /** Real peers to dial instead of the embedded ones (raw, as given). */
      readonly urls: readonly string[];
      /** Start the offline inspector and print its URL (present only when asked for). */
      readonly inspect?: true;
      /** Run the peers on this many worker threads (`honeybee-pool/shards`); present only when asked for. */
      readonly shards?: number;
    }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid'; readonly message: string };

/** The `--help` text, also printed (to stderr) after an invalid argument. */
export const USAGE = `Usage: npm start -- [--duration <seconds>] [--url <ws(s)://…>]... [--inspect] [--shards <n>] [--help]

Keeps a honeybee pool connected to a handful of peers and prints one status
line per peer every second, then a summary when it closes.

  --duration <seconds>  run this long, then close cleanly (default: until Ctrl-C)
  --url <ws(s)://…>     dial this peer instead of the embedded demo peers;
                        repeat for several peers
  --inspect             serve the live inspector on 127.0.0.1 and print its URL
  --shards <n>          run the peers on n worker threads (createShardedPool)
  --help                print this text

Without --url the demo starts five local peers on 127.0.0.1: steady, firehose,
flaky, late and silent.`;

// setTimeout clamps anything above 2^31 - 1 ms to 1 ms, so refuse it here.
const MAX_DURATION_S = Math.floor(2_147_483_647 / 1000);

/** Splits `--name=value` into its parts; other arguments pass through. */
function splitInline(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

/** Parses a `--duration` value in seconds into milliseconds, or returns an error message. */
export function parseDuration(text: string | undefined): number | string {
  if (text === undefined || text.trim() === '') return '--duration needs a number of seconds';
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_DURATION_S) {
    return `--duration must be a number of seconds above 0 and at most ${MAX_DURATION_S}, got ${JSON.stringify(text)}`;
  }
  return Math.round(seconds * 1000);
}

const MAX_SHARDS = 64;

/** Parses a `--shards` value, or returns an error message. */
function parseShards(text: string | undefined): number | string {
  const shards = Number(text);
  if (text === undefined || !Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    return `--shards must be a whole number of threads from 1 to ${MAX_SHARDS}, got ${JSON.stringify(text ?? '')}`;
  }
  return shards;
}

/** Checks a `--url` with the library's own rules; returns its typed error message if it fails. */
function checkUrl(text: string | undefined, seen: Set<string>): string | undefined {
  if (text === undefined) return '--url needs a ws:// or wss:// URL';
  let id: string;
  try {
    id = normalizeUrl(text);
  } catch (error) {
    if (error instanceof HoneybeeError) return `${error.message} (${error.code})`;
    throw error;
  }
  if (seen.has(id)) return `--url ${JSON.stringify(text)} names a peer that was already given (${id})`;
  seen.add(id);
  return undefined;
}

/**
 * Parses the demo's command line (without `node` and the script path).
 * Never throws and never exits: the caller decides what an invalid result does.
 *
 * @example
 * ```ts
 * parseArgs(['--duration', '8']); // { kind: 'run', durationMs: 8000, urls: [] }
 * ```
 */
export function parseArgs(argv: readonly string[]): DemoCommand {
  let durationMs: number | undefined;
  let inspect = false;
  let shards: number | undefined;
  const urls: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = splitInline(argv[i] ?? '');
    // An inline value wins; otherwise the value is the next argument.
    const value = (): string | undefined => inline ?? argv[++i];
    if (name === '--help' || name === '-h') return { kind: 'help' };
    if (name === '--inspect' && inline === undefined) {
      inspect = true;
    } else if (name === '--duration') {
      const parsed = parseDuration(value());
      if (typeof parsed === 'string') return { kind: 'invalid', message: parsed };
      durationMs = parsed;
    } else if (name === '--shards') {
      const parsed = parseShards(value());
      if (typeof parsed === 'string') return { kind: 'invalid', message: parsed };
      shards = parsed;
    } else if (name === '--url') {
      const url = value();
      const problem = checkUrl(url, seen);
      if (problem !== undefined) return { kind: 'invalid', message: problem };
      urls.push(url as string);
    } else {
      return { kind: 'invalid', message: `unknown argument ${JSON.stringify(argv[i])}` };
    }
  }
  // The inspector watches one pool actor; shard threads each have their own.
  if (inspect && shards !== undefined) return { kind: 'invalid', message: '--inspect and --shards cannot be combined' };
  const command: DemoCommand = inspect ? { kind: 'run', durationMs, urls, inspect } : { kind: 'run', durationMs, urls };
  return shards === undefined ? command : { ...command, shards };
}
