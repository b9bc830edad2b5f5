import type { WebSocket as ServerSocket } from 'ws';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { SequenceLedger } from './ledger.ts';

// The hostile world of the soak run, in a child process so that the parent's
// RSS is the pool's alone: ws servers numbering every message per connection,
// and one fault proxy per peer switching between random faults.
//
// Protocol (IPC): → { type: 'ready', urls } ; ← 'calm' → { type: 'calm' } ;
// ← 'report' → { type: 'report', ... } ; ← 'exit'.

export type Fault = 'pass' | 'delay' | 'throttle' | 'blackhole' | 'reset' | 'half-close' | 'server-close';

/** What one server-side connection wrote, and what it received from the pool. */
export interface ConnectionRecord {
  conn: number;
  peer: number;
  written: number;
}

export interface PeersReport {
  type: 'report';
  connections: ConnectionRecord[];
  received: { delivered: number; gaps: number; disorder: number; connections: number };
  /** Messages from the pool that named another peer than the connection's. */
  misrouted: number;
  faults: Record<Fault, number>;
}

const SERVERS = 10;
const FAULTS: Array<[Fault, number]> = [
  ['pass', 46],
  ['delay', 12],
  ['throttle', 12],
  ['blackhole', 10],
  ['reset', 7],
  ['half-close', 6],
  ['server-close', 7]
];
const TOTAL_WEIGHT = FAULTS.reduce((sum, [, weight]) => sum + weight, 0);

const peerCount = Number(process.argv[2] ?? 200);
const records = new Map<number, ConnectionRecord>();
const fromPool = new SequenceLedger();
const faults = Object.fromEntries(FAULTS.map(([fault]) => [fault, 0])) as Record<Fault, number>;
const socketsByPeer = new Map<number, Set<ServerSocket>>();
let nextConn = 1;
let misrouted = 0;
let calm = false;

function pick(): Fault {
  let roll = Math.random() * TOTAL_WEIGHT;
  for (const [fault, weight] of FAULTS) {
    roll -= weight;
    if (roll < 0) return fault;
  }
  return 'pass';
}

const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));

/** Numbers every message: `<conn>:<seq>:<padding>`, text or binary, sometimes a few KB. */
function serve(server: TestServer): void {
  server.wss.on('connection', (socket, request) => {
    const peer = Number(/\/peer-(\d+)/.exec(request.url ?? '')?.[1] ?? -1);
    const conn = nextConn++;
    const record: ConnectionRecord = { conn, peer, written: 0 };
    records.set(conn, record);
    let peers = socketsByPeer.get(peer);
    if (peers === undefined) socketsByPeer.set(peer, (peers = new Set()));
    peers.add(socket);
    const write = (): void => {
      for (let i = between(1, 3); i > 0; i--) {
        if (socket.readyState !== socket.OPEN) return;
        const big = Math.random() < 0.02;
        const text = `${conn}:${record.written}:${big ? 'x'.repeat(between(2000, 8000)) : ''}`;
        socket.send(Math.random() < 0.2 ? Buffer.from(text) : text);
        record.written += 1;
      }
    };
    const timer = setInterval(write, 100);
    write();
    socket.on('message', (data) => {
      const [connText, seqText] = String(data).split(':');
      if (Number(connText) === peer) fromPool.record(conn, Number(seqText));
      else misrouted += 1;
    });
    socket.on('close', () => {
      clearInterval(timer);
      peers.delete(socket);
    });
  });
}

function apply(fault: Fault, proxy: FaultProxy, peer: number): void {
  faults[fault] += 1;
  switch (fault) {
    case 'pass':
      return proxy.pass();
    case 'delay':
      return proxy.delay(between(5, 150));
    case 'throttle':
      return proxy.throttle(between(4, 64) * 1024);
    case 'blackhole':
      return proxy.blackhole();
    case 'reset':
      proxy.pass();
      return proxy.reset();
    case 'half-close':
      proxy.pass();
      return proxy.halfClose(Math.random() < 0.5 ? 'up' : 'down');
    case 'server-close':
      proxy.pass();
      for (const socket of socketsByPeer.get(peer) ?? []) socket.close(Math.random() < 0.5 ? 1001 : 4000, 'soak');
  }
}

async function main(): Promise<void> {
  const servers = await Promise.all(Array.from({ length: SERVERS }, () => startServer()));
  servers.forEach(serve);
  const proxies = await Promise.all(Array.from({ length: peerCount }, (_, peer) => startFaultProxy(`${(servers[peer % SERVERS] as TestServer).url}/peer-${peer}`)));
  const timers = proxies.map((proxy, peer) => {
    const next = (): NodeJS.Timeout =>
      setTimeout(
        () => {
          if (calm) return;
          apply(pick(), proxy, peer);
          timers[peer] = next();
        },
        between(2000, 6000)
      );
    return next();
  });

  process.on('message', (message: string) => {
    if (message === 'calm') {
      calm = true;
      for (const timer of timers) clearTimeout(timer);
      for (const proxy of proxies) proxy.pass();
      process.send?.({ type: 'calm' });
    } else if (message === 'report') {
      const report: PeersReport = { type: 'report', connections: [...records.values()], received: fromPool.summary(), misrouted, faults };
      process.send?.(report);
    } else if (message === 'exit') {
      void Promise.all([...proxies, ...servers].map((resource) => resource.close())).then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', urls: proxies.map((proxy) => proxy.url) });
}

process.on('disconnect', () => process.exit(0));
void main();
