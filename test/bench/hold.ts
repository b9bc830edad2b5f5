/**
 * How far one process goes (`npm run bench -- --only 100k`, never in the
 * default run): one process holds `--peers` (default 100 000) connected
 * peers with pings on. The peers' server is several processes, each on its
 * own loopback address (127.0.0.2, 127.0.0.3, …), so neither one server's
 * descriptors nor one address pair's ephemeral ports run out.
 *
 * Every socket is a file descriptor in the client and in a server, so the
 * bench first raises this process's descriptor limit (children inherit it):
 * `prlimit` up to peers + a margin, which needs root (CAP_SYS_RESOURCE) to
 * raise the hard limit; without it the soft limit goes up to the hard one,
 * and a run that still does not fit holds as many peers as the limit allows
 * and says so in its report.
 */
import { execFileSync } from 'node:child_process';
import { runClient, startServer, type Server } from './harness.ts';

export interface HoldResult {
  /** Peers asked for (`--peers`). */
  asked: number;
  peers: number;
  servers: number;
  fdLimit: { before: string; after: string; raisedBy: string };
  pingIntervalMs: number;
  /** Peers connected at once (each wave waits for the previous one to be connected). */
  wave: number;
  /** What hold-client.ts measured (connect, memory, idle, close). */
  measured: Record<string, number>;
  notes: string[];
}

/** Descriptors the client needs beyond one per peer (modules, stdio, the event loop, fetches). */
const MARGIN = 512;
/** Most connections one server process takes (its share of the descriptor limit, with a margin). */
const PER_SERVER = 16_000;

function limits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    const text = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

/** Raises this process's descriptor limit towards `want`; says how, and what the limit is now. */
function raiseFdLimit(want: number): { raisedBy: string; soft: number } {
  const { soft, hard } = limits();
  if (soft >= want) return { raisedBy: 'already high enough', soft };
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${Math.max(want, hard)}`], { stdio: 'pipe' });
    return { raisedBy: `prlimit --nofile=${want}`, soft: limits().soft };
  } catch (error) {
    const why = String((error as { stderr?: unknown }).stderr ?? error).trim();
    if (soft < hard) {
      try {
        execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { stdio: 'pipe' });
        return { raisedBy: `soft limit raised to the hard limit ${hard} (raising the hard limit failed: ${why})`, soft: limits().soft };
      } catch {
        // Fall through: leave the limit as it is.
      }
    }
    return { raisedBy: `not raised (${why || 'prlimit failed'}); hard limit ${hard}`, soft: limits().soft };
  }
}

export interface HoldOptions {
  peers: number;
  idleSeconds: number;
  pingIntervalMs: number;
  /** Peers connected at once; 0: all at once. */
  wave: number;
}

/** Runs the section; `log` reports progress. */
export async function measureHold(options: HoldOptions, log: (text: string) => void): Promise<HoldResult> {
  const notes: string[] = [];
  const before = limits();
  const raised = raiseFdLimit(options.peers + MARGIN);
  const peers = Math.min(options.peers, raised.soft - MARGIN);
  if (peers < options.peers) {
    notes.push(
      `Held ${peers.toLocaleString('en-US')} peers, not the ${options.peers.toLocaleString('en-US')} asked: one socket is one descriptor, and this process may open ${raised.soft} (${raised.raisedBy}).`
    );
  }
  const serverCount = Math.max(4, Math.ceil(peers / Math.min(PER_SERVER, raised.soft - MARGIN)));
  log(`100k: descriptor limit ${before.soft} → ${raised.soft}; ${peers} peers over ${serverCount} server processes`);
  const servers: Server[] = [];
  try {
    for (let i = 0; i < serverCount; i++) servers.push(await startServer(0, { host: `127.0.0.${i + 2}` }));
    const measured = await runClient(
      'hold-client.ts',
      [peers, options.idleSeconds, options.pingIntervalMs, options.wave, servers.map((server) => `${server.host}:${server.port}`).join(',')],
      { timeoutMs: 30 * 60_000 }
    );
    return {
      asked: options.peers,
      peers,
      servers: serverCount,
      fdLimit: { before: `${before.soft} (hard ${before.hard})`, after: String(raised.soft), raisedBy: raised.raisedBy },
      pingIntervalMs: options.pingIntervalMs,
      wave: options.wave > 0 ? Math.min(options.wave, peers) : peers,
      measured: measured as Record<string, number>,
      notes
    };
  } finally {
    await Promise.all(servers.map((server) => server.kill()));
  }
}
