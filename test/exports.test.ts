import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { LocalPool, Pool, PoolShape } from '../src/api.ts';
import type { ClusterClient, ClusterEvent, ClusterMessage } from '../src/nats/index.ts';
import type { ShardedPool, ShardedPoolStats, ThreadConnectOptions } from '../src/shards/index.ts';
import { exportedNames, type ExportedNames } from './helpers/exported-names.ts';

// Every entry's export list, values and types, so a change to the public API is a deliberate edit here.
// The names come from the TypeScript checker over each entry's source; the values are checked
// against what the module exports at runtime.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | Record<string, string | Record<string, string>>>;
};

/** Every file the exports map points at, as its TypeScript source. */
function mappedSources(): string[] {
  const targets: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(pkg.exports);
  return targets.filter((target) => target.startsWith('./dist/')).map((target) => target.replace(/^\.\/dist\//, '').replace(/\.d\.ts$|\.js$/, '.ts'));
}

/** The source of each subpath entry (`./node`, `./machines`, …): `.` is `./node` or `./web` by condition. */
const ENTRIES: Record<string, string> = Object.fromEntries(
  Object.entries(pkg.exports)
    .filter(([entry]) => entry !== '.' && entry !== './package.json')
    .map(([entry, target]) => {
      const types = typeof target === 'string' ? target : target['types'];
      return [
        entry,
        String(types)
          .replace(/^\.\/dist\//, '')
          .replace(/\.d\.ts$/, '.ts')
      ];
    })
);

const SNAPSHOTTED = ['./node', './web', './inspector', './machines', './examples', './testkit', './testkit/vitest', './shards', './nats'];

let surface: Map<string, ExportedNames>;
beforeAll(() => {
  surface = exportedNames(Object.values(ENTRIES));
}, 60_000);

/** One entry's names, after checking that its runtime exports are exactly the checker's values. */
async function entry(name: string): Promise<ExportedNames> {
  const source = ENTRIES[name];
  if (source === undefined) throw new Error(`${name} is not in package.json exports`);
  const names = surface.get(source);
  if (names === undefined) throw new Error(`${source} was not read`);
  const runtime = Object.keys((await import(new URL(`../${source}`, import.meta.url).href)) as object).sort();
  expect(runtime, `${name}: runtime exports`).toEqual(names.values);
  return names;
}

describe('package exports', () => {
  it('maps every entry to a source file that exists', () => {
    for (const source of mappedSources()) expect(existsSync(new URL(`../${source}`, import.meta.url)), source).toBe(true);
  });

  it('resolves `.` to the Node build under the node condition and to the web build otherwise', () => {
    expect(pkg.exports['.']).toEqual({
      node: { types: './dist/src/node.d.ts', default: './dist/src/node.js' },
      types: './dist/src/web.d.ts',
      default: './dist/src/web.js'
    });
  });

  it('snapshots every entry below', () => {
    expect(Object.keys(ENTRIES).sort()).toEqual([...SNAPSHOTTED].sort());
  });

  it('honeybee-pool/node', async () => {
    const names = await entry('./node');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [
          "BroadcastResult",
          "ConnectOptions",
          "ConnectionOptions",
          "ConsoleLevel",
          "Defaults",
          "DisconnectCause",
          "ErrorCode",
          "EventWriter",
          "ExtraWorkerInput",
          "HostedWorkerInput",
          "InboxMessage",
          "InboxOverflow",
          "InboxWriter",
          "LocalPool",
          "Logger",
          "NotReadyReason",
          "PeerStats",
          "Pool",
          "PoolEvent",
          "PoolEventKind",
          "PoolEvents",
          "PoolInbox",
          "PoolOptions",
          "PoolPlugin",
          "PoolShape",
          "PoolStats",
          "ReadyOptions",
          "RetryOptions",
          "StatelyAdapterOptions",
          "StatelyInspectorLike",
          "TlsOptions",
          "Transport",
          "TransportCapabilities",
          "TransportListener",
          "TransportOpenOptions",
          "TransportSocket",
          "WebSocketConstructor",
          "WebSocketLike",
          "Worker",
          "WorkerFactory",
          "WorkerFromMachineOptions",
          "WorkerStats",
        ],
        "values": [
          "BackpressureError",
          "ConnectionUnavailableError",
          "DEFAULTS",
          "DialFailedError",
          "ErrorCodes",
          "FactoryError",
          "HoneybeeError",
          "InvalidOptionError",
          "InvalidPayloadError",
          "InvalidPoolIdError",
          "InvalidUrlError",
          "NotReadyError",
          "PeerExistsError",
          "PeerNotFoundError",
          "PoolClosedError",
          "ReadLimitError",
          "SecondReaderError",
          "UnsupportedError",
          "UnsupportedOptionError",
          "VERSION",
          "WriteFailedError",
          "consoleLogger",
          "createPool",
          "initialWorkerStats",
          "normalizeUrl",
          "redactUrl",
          "toStatelyInspector",
          "webSocketTransport",
          "workerFromMachine",
          "wsTransport",
        ],
      }
    `);
  });

  it('honeybee-pool/web: the Node entry without wsTransport', async () => {
    const [web, node] = [await entry('./web'), await entry('./node')];
    expect(node.values.filter((name) => !web.values.includes(name))).toEqual(['wsTransport']);
    expect(web.values.filter((name) => !node.values.includes(name))).toEqual([]);
    expect(web.types).toEqual(node.types);
  });

  it('Pool, ShardedPool and ClusterClient share one base (PoolShape); the two in-process pools share LocalPool', () => {
    expectTypeOf<Pool>().toExtend<LocalPool>();
    expectTypeOf<ShardedPool>().toExtend<LocalPool<ThreadConnectOptions, ShardedPoolStats>>();
    expectTypeOf<ShardedPool>().toExtend<PoolShape>();
    expectTypeOf<ClusterClient>().toExtend<PoolShape<ClusterMessage, ClusterEvent>>();
    expectTypeOf<ClusterClient>().not.toExtend<LocalPool>();
  });

  it('honeybee-pool/inspector', async () => {
    const names = await entry('./inspector');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [
          "Inspector",
          "InspectorOptions",
          "StatelyShapedEvent",
          "WatchablePool",
          "WireLifecycle",
          "WireMessage",
          "WireSnapshot",
          "WireStats",
        ],
        "values": [
          "createInspector",
        ],
      }
    `);
  });

  it('honeybee-pool/machines', async () => {
    const names = await entry('./machines');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [
          "BackoffPolicy",
          "CloseCause",
          "ConnectionLogic",
          "ControlEvent",
          "FrameTap",
          "HandshakeEvent",
          "HandshakeLogic",
          "PoolContext",
          "PoolEmitted",
          "PoolMachineEvent",
          "SelfEvent",
          "SocketCommand",
          "SocketEvent",
          "SocketInput",
          "WorkerContext",
          "WorkerEmitted",
          "WorkerEvent",
          "WorkerInput",
          "WorkerLink",
          "WorkerMachineTag",
          "WorkerTag",
          "WorkerTiming",
        ],
        "values": [
          "CLOSE_CAUSES",
          "LIFECYCLE_KINDS",
          "computeBackoff",
          "heartbeatDelay",
          "jitterFactor",
          "keepaliveRemaining",
          "keepaliveTimeoutEvent",
          "linkSocketLogic",
          "nextDialDelay",
          "nextPingAt",
          "poolMachine",
          "workerMachine",
        ],
      }
    `);
  });

  it('honeybee-pool/examples', async () => {
    const names = await entry('./examples');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [
          "AuthFrame",
          "ProbeSettings",
          "Signer",
        ],
        "values": [
          "authWorkerMachine",
          "parseAuthFrame",
          "probeSettings",
          "probeWorker",
          "probeWorkerMachine",
          "signerFrom",
        ],
      }
    `);
  });

  it('honeybee-pool/testkit', async () => {
    const names = await entry('./testkit');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [
          "ContractCheckId",
          "ContractOptions",
          "ContractPeer",
          "ContractResult",
          "ContractTarget",
          "KitSocket",
          "RecordedFrame",
          "ReplayOptions",
          "TestDial",
          "TestLink",
        ],
        "values": [
          "CONTRACT_CHECKS",
          "ReplayWorker",
          "checkWorkerContract",
          "createTestLink",
          "plannedChecks",
          "replayWorkerFactory",
        ],
      }
    `);
  });

  it('honeybee-pool/testkit/vitest', async () => {
    const names = await entry('./testkit/vitest');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [],
        "values": [
          "describeWorkerContract",
        ],
      }
    `);
  });

  it('honeybee-pool/shards', async () => {
    const names = await entry('./shards');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [
          "FailedBatch",
          "FailedBatchFate",
          "ShardContext",
          "ShardModule",
          "ShardOutput",
          "ShardStats",
          "ShardedPool",
          "ShardedPoolOptions",
          "ShardedPoolStats",
          "ThreadConnectOptions",
        ],
        "values": [
          "ShardModuleError",
          "ShardProcessError",
          "createShardedPool",
          "defineShard",
          "rendezvousAssign",
          "rendezvousOwner",
          "rendezvousWeight",
        ],
      }
    `);
  });

  it('honeybee-pool/nats', async () => {
    const names = await entry('./nats');
    expect(names).toMatchInlineSnapshot(`
      {
        "types": [
          "ClusterClient",
          "ClusterClientOptions",
          "ClusterEvent",
          "ClusterInbox",
          "ClusterMessage",
          "Shard",
          "ShardOptions",
        ],
        "values": [
          "NoOwnerError",
          "OwnerUnavailableError",
          "createClusterClient",
          "createShard",
        ],
      }
    `);
  });
});
