/**
 * A/B of honeybee builds (and the other contenders) on the connect measure:
 * one server, rounds alternating the order of the variants, a fresh client
 * process per run. For comparing a change against its base while the
 * machine is noisy: heap per peer and CPU time per peer move far less with
 * load than wall time does.
 *
 * usage: tsx test/bench/ab.ts <peers> <rounds> <variant>...
 *   variant: `raw`, `partysocket`, `nostr`, `actor` / `actor-pool` (raw `ws` plus one bare XState actor per socket, without or with a pool actor that re-emits: the floors), or `label=/path/to/build/src/index.js` (honeybee)
 */
import { resolve } from 'node:path';
import { runClient, startServer, summarize, useEntry } from './harness.ts';

const [peersText = '10000', roundsText = '3', ...variants] = process.argv.slice(2);
const server = await startServer();
const fields = ['connectMs', 'connectCpuUsPerPeer', 'heapPerPeer', 'closeMs', 'closeCpuMs'] as const;
const samples = new Map<string, Array<Record<string, unknown>>>(variants.map((v) => [v, []]));
try {
  for (let round = 0; round < Number(roundsText); round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      await server.idle();
      const [label, entry] = variant.includes('=') ? variant.split('=') : [variant, ''];
      const kind = entry === '' ? label! : 'honeybee';
      useEntry(entry === '' ? '' : resolve(entry!));
      const sample = await runClient('connect-client.ts', [kind, server.port, peersText]);
      samples.get(variant)!.push(sample);
      process.stderr.write(`${label}: ${fields.map((f) => `${f} ${Number(sample[f]).toFixed(f === 'heapPerPeer' ? 0 : 1)}`).join(', ')}\n`);
    }
  }
} finally {
  await server.kill();
}
for (const [variant, list] of samples) {
  const label = variant.split('=')[0];
  const cells = fields.map((f) => {
    const s = summarize(list.map((x) => Number(x[f])));
    const scale = f === 'heapPerPeer' ? 1 / 1024 : 1;
    return `${f} ${(s.median * scale).toFixed(2)} (${(s.min * scale).toFixed(2)}–${(s.max * scale).toFixed(2)})`;
  });
  process.stdout.write(`${label}\t${cells.join('\t')}\n`);
}
