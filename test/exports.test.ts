import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Every entry's export list, so a change to the public API is a deliberate edit here.
// `./shards` and `./nats` are added by their own work.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | Record<string, string | Record<string, string>>>;
};

const names = (module: object): string[] => Object.keys(module).sort();

/** Every file the exports map points at, as its TypeScript source. */
function mappedSources(): string[] {
  const targets: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(pkg.exports);
  return targets
    .filter((target) => target.startsWith('./dist/'))
    .map((target) => target.replace(/^\.\/dist\//, '').replace(/\.d\.ts$|\.js$/, '.ts'));
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
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['./node', './web', './inspector', './machines', './testkit', './testkit/vitest']));
  });

  it('honeybee-pool/node', async () => {
    expect(names(await import('../src/node.ts'))).toMatchInlineSnapshot(`
      [
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
      ]
    `);
  });

  it('honeybee-pool/web: the Node entry without wsTransport', async () => {
    const web = names(await import('../src/web.ts'));
    expect(web).toMatchInlineSnapshot(`
      [
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
      ]
    `);
    expect(names(await import('../src/node.ts')).filter((name) => !web.includes(name))).toEqual(['wsTransport']);
  });

  it('honeybee-pool/inspector', async () => {
    expect(names(await import('../src/inspector/index.ts'))).toMatchInlineSnapshot(`
      [
        "createInspector",
      ]
    `);
  });

  it('honeybee-pool/machines', async () => {
    expect(names(await import('../machines/index.ts'))).toMatchInlineSnapshot(`
      [
        "CLOSE_CAUSES",
        "LIFECYCLE_KINDS",
        "authWorkerMachine",
        "computeBackoff",
        "heartbeatDelay",
        "jitterFactor",
        "keepaliveRemaining",
        "keepaliveTimeoutEvent",
        "linkSocketLogic",
        "nextDialDelay",
        "nextPingAt",
        "parseAuthFrame",
        "poolMachine",
        "probeSettings",
        "probeWorker",
        "probeWorkerMachine",
        "signerFrom",
        "workerMachine",
      ]
    `);
  });

  it('honeybee-pool/testkit', async () => {
    expect(names(await import('../src/testkit/index.ts'))).toMatchInlineSnapshot(`
      [
        "CONTRACT_CHECKS",
        "ReplayWorker",
        "checkWorkerContract",
        "createTestLink",
        "plannedChecks",
        "replayWorkerFactory",
      ]
    `);
  });

  it('honeybee-pool/react (React an optional peer)', async () => {
    // Through a variable: type-checking the entry here would pull React's global DOM stubs into the test project.
    const entry = '../src/react/index.ts';
    expect(names((await import(entry)) as object)).toEqual(['usePeer', 'usePeers', 'usePoolStats']);
  });

  it('honeybee-pool/testkit/vitest', async () => {
    expect(names(await import('../src/testkit/vitest.ts'))).toMatchInlineSnapshot(`
      [
        "describeWorkerContract",
      ]
    `);
  });
});
