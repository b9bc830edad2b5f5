/**
 * What the one XState internal the pool keeps (src/xstate-internals.ts, the
 * scheduler index) buys, alone: N actors under one parent each hold a
 * pending delayed event, then each ends (a final state, as a worker ends),
 * which runs XState's `cancelAll` for it. XState 5.33's scheduler walks every
 * pending event of the system for each, so the total is quadratic; the
 * index touches only the ending actor's own. Alternating runs, same process.
 *
 * usage: npx tsx test/bench/scheduler-index.ts [actors=5000]
 */
import { createActor, setup } from 'xstate';
import { indexScheduler } from '../../src/xstate-internals.ts';
// Each child holds one pending delayed event; ending it (a final state, as a worker ends) runs cancelAll for it.
const child = setup({}).createMachine({ initial: 'wait', states: { wait: { after: { 10_000: 'done' }, on: { end: 'done' } }, done: { type: 'final' } } });
const root = setup({}).createMachine({});
const N = Number(process.argv[2] ?? 5000);
for (const mode of ['xstate', 'index', 'xstate', 'index']) {
  const parent = createActor(root);
  if (mode === 'index' && !indexScheduler(parent.system)) throw new Error('index declined');
  parent.start();
  const children = Array.from({ length: N }, () => createActor(child, { parent }).start());
  const t = performance.now();
  for (const c of children) c.send({ type: 'end' });
  console.log(`${mode}: ending ${N} actors that each hold a delayed event: ${(performance.now() - t).toFixed(1)} ms`);
  parent.stop();
}
