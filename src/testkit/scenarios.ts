import type { ConnectionOptions } from '../types.ts';
import { describeThrown, isConnectionUnavailable, lifecycleProblems, type Report } from './checks.ts';
import { pollUntil, resourcesAbove, WorkerRun } from './harness.ts';
import type { KitHungPeer, KitPeer } from './servers.ts';

/** Everything a scenario needs: the report, the bounds, the peers, and a way to open a worker. */
export interface KitEnv {
  readonly report: Report;
  readonly connection: ConnectionOptions;
  readonly stopTimeout: number;
  readonly connectTimeout: number;
  readonly messages: number;
  /** Messages an offline worker produces by itself; undefined for workers that use the peer. */
  readonly offlineMessages: number | undefined;
  /** Where the main scenarios point the worker: the peer, or a placeholder for offline workers. */
  readonly mainUrl: string;
  readonly peer: KitPeer | undefined;
  readonly hung: KitHungPeer | undefined;
  readonly refusedUrl: string | undefined;
  open(url: string): WorkerRun | undefined;
}

function sameFrame(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

function expectUnavailable(env: KitEnv, run: WorkerRun, when: string): void {
  const error = run.send('kit:unavailable');
  if (error === undefined) env.report.fail('send.unavailable', `send() ${when} did not throw`);
  else env.report.expect('send.unavailable', isConnectionUnavailable(error), `send() ${when} threw ${describeThrown(error)}`);
}

function openSockets(env: KitEnv): number {
  return (env.peer?.sockets.size ?? 0) + (env.hung?.sockets.size ?? 0);
}

/** Ends a scenario: makes sure the worker was stopped, then checks its events, its counters and what it left behind. */
async function finish(env: KitEnv, run: WorkerRun, scenario: string): Promise<void> {
  const { report } = env;
  if (!run.settled) {
    run.stop();
    await run.settleWithin(env.stopTimeout);
  }
  report.touch('events.alternate');
  for (const problem of lifecycleProblems(run.events, run.id, run.settled)) report.fail('events.alternate', `${scenario}: ${problem}`);
  const stats = run.stats(`after ${scenario}`);
  if (stats !== undefined && run.settled) {
    const n = run.inbox.length;
    report.expect('inbox.tagged', stats.received === n, `${scenario}: stats().received is ${stats.received} after ${n} inbox messages`);
  }
  // Sockets and timers get the same bound to go away as start() had to settle.
  const clean = await pollUntil(() => resourcesAbove(run.baseline).length === 0 && openSockets(env) === 0, env.stopTimeout);
  const left = [...resourcesAbove(run.baseline), ...(openSockets(env) > 0 ? [`${openSockets(env)} open server-side connection(s)`] : [])];
  report.expect('cleanup', clean, `${scenario}: ${env.stopTimeout} ms after start() settled, left ${left.join(', ')}`);
  run.dispose();
}

/** stop() twice, then start(): start() settles at once and nothing connects. */
export async function stopBeforeStart(env: KitEnv): Promise<void> {
  const run = env.open(env.mainUrl);
  if (run === undefined) return;
  const accepted = env.peer?.accepted ?? 0;
  run.stats('before start()');
  expectUnavailable(env, run, 'before start()');
  run.stop(2);
  run.start();
  const settled = await run.settleWithin(env.stopTimeout);
  env.report.expect('stop.before-start', settled, `start() did not settle within ${env.stopTimeout} ms after an earlier stop()`);
  env.report.expect('stop.before-start', run.count('connected') === 0, 'the worker connected although stop() came first');
  expectUnavailable(env, run, 'after stop()');
  await finish(env, run, 'stop before start');
  const dialed = (env.peer?.accepted ?? 0) > accepted;
  env.report.expect('stop.before-start', !dialed, 'the worker dialed the peer although stop() came first');
}

/** stop() in the same tick as start(), then stop() racing the opening handshake. */
export async function stopRacingStart(env: KitEnv): Promise<void> {
  const run = env.open(env.mainUrl);
  if (run === undefined) return;
  run.start();
  run.stop();
  const settled = await run.settleWithin(env.stopTimeout);
  env.report.expect('stop.concurrent', settled, `start() did not settle within ${env.stopTimeout} ms when stop() followed it in the same tick`);
  await finish(env, run, 'stop in the same tick as start');
  const { peer } = env;
  if (peer === undefined) return;
  const race = env.open(peer.url);
  if (race === undefined) return;
  const accepted = peer.accepted;
  race.start();
  const reached = await pollUntil(() => peer.accepted > accepted, env.connectTimeout);
  race.stop();
  env.report.expect('stop.concurrent', reached, `the worker did not reach the peer within ${env.connectTimeout} ms`);
  const raced = await race.settleWithin(env.stopTimeout);
  env.report.expect('stop.concurrent', raced, `start() did not settle within ${env.stopTimeout} ms when stop() raced the handshake`);
  await finish(env, race, 'stop racing the handshake');
}

/** A peer that accepts TCP and never answers: stop() must abandon the dial. */
export async function stopWhileDialing(env: KitEnv): Promise<void> {
  const { hung, report } = env;
  if (hung === undefined) return;
  const run = env.open(hung.url);
  if (run === undefined) return;
  run.start();
  const dialing = await pollUntil(() => hung.sockets.size > 0, env.connectTimeout);
  report.expect('stop.dialing', dialing, `the worker opened no connection to the peer within ${env.connectTimeout} ms`);
  run.stats('while dialing');
  expectUnavailable(env, run, 'while dialing');
  run.stop();
  report.expect('stop.dialing', await run.settleWithin(env.stopTimeout), `start() did not settle within ${env.stopTimeout} ms of stop() during a dial`);
  report.expect('stop.dialing', run.count('connected') === 0, 'the worker reported connected although the handshake never completed');
  await finish(env, run, 'stop while dialing');
}

/** A refused port: after the failed dials the worker waits (30 s in the kit's timings); stop() must cut that short. */
export async function stopInBackoff(env: KitEnv): Promise<void> {
  const { refusedUrl, report } = env;
  if (refusedUrl === undefined) return;
  const run = env.open(refusedUrl);
  if (run === undefined) return;
  run.start();
  const failed = await run.waitFor(() => run.count('dial_failed') > 0, env.connectTimeout);
  report.expect('stop.backoff', failed, `no dial_failed event within ${env.connectTimeout} ms of dialing a refused port`);
  // The default policy retries once at once; give a second failure the chance to land so the worker is waiting.
  await run.waitFor(() => run.count('dial_failed') > 1, 500);
  await new Promise((resolve) => setTimeout(resolve, 50));
  run.stats('in backoff');
  expectUnavailable(env, run, 'in backoff');
  run.stop();
  report.expect('stop.backoff', await run.settleWithin(env.stopTimeout), `start() did not settle within ${env.stopTimeout} ms of stop() in backoff`);
  await finish(env, run, 'stop in backoff');
}

async function sendWhileConnected(env: KitEnv, run: WorkerRun): Promise<void> {
  for (const data of ['kit:text', Uint8Array.of(1, 2, 3)]) {
    const error = run.send(data);
    env.report.expect('send.typed', error === undefined, `send() while connected threw ${describeThrown(error)}`);
  }
  const { peer } = env;
  if (peer === undefined) return;
  const got = (frame: string | Uint8Array): boolean => peer.received.some((item) => sameFrame(item, frame));
  const arrived = await pollUntil(() => ['kit:hello', 'kit:text', Uint8Array.of(1, 2, 3)].every(got), env.connectTimeout);
  env.report.expect('send.typed', arrived, 'the peer did not receive every frame sent while connected');
}

async function receiveWhileConnected(env: KitEnv, run: WorkerRun): Promise<void> {
  const { peer, report } = env;
  const before = run.inbox.length;
  const frames = Array.from({ length: env.messages }, (_, i) => (i % 2 === 0 ? `kit:frame:${i}` : Uint8Array.of(i, 255 - i)));
  if (peer !== undefined) peer.stream(frames);
  const expected = peer !== undefined ? frames.length : (env.offlineMessages ?? 0);
  const arrived = await run.waitFor(() => run.inbox.length - before >= expected, env.connectTimeout);
  report.expect('inbox.tagged', arrived, `${run.inbox.length - before} of ${expected} expected messages reached the inbox`);
  if (peer === undefined) return;
  frames.forEach((frame, i) => {
    const message = run.inbox[before + i];
    if (message !== undefined && !sameFrame(message.data, frame)) report.fail('inbox.tagged', `message #${before + i + 1} is not frame ${i + 1} as sent`);
  });
}

async function survivePeerClose(env: KitEnv, run: WorkerRun): Promise<void> {
  const { peer } = env;
  if (peer === undefined) return;
  const connections = run.count('connected');
  peer.closeAll(4000, 'kit: please reconnect');
  const back = await run.waitFor(() => run.count('connected') > connections, env.connectTimeout);
  env.report.expect('events.alternate', back, `no new connection within ${env.connectTimeout} ms after the peer closed the first one${run.lastDialFailure()}`);
}

/** The whole life of a connection: send, receive, a peer-side close and a reconnect, then stop(). */
export async function connectedLife(env: KitEnv): Promise<void> {
  const { report } = env;
  const run = env.open(env.mainUrl);
  if (run === undefined) return;
  let firstSend: unknown = 'not tried';
  // The pool promises `connected` right after send() becomes usable: listeners may send at once.
  run.onEvent = (event) => {
    if (event.kind === 'connected' && firstSend === 'not tried') firstSend = run.send('kit:hello');
  };
  run.start();
  if (!(await run.waitFor(() => run.count('connected') > 0, env.connectTimeout))) {
    for (const id of ['events.alternate', 'stop.connected', 'inbox.tagged', 'send.typed'] as const) {
      report.fail(id, `no connected event within ${env.connectTimeout} ms${run.lastDialFailure()}`);
    }
    await finish(env, run, 'connected life');
    return;
  }
  report.expect('send.typed', firstSend === undefined, `send() inside the connected event threw ${describeThrown(firstSend)}`);
  await sendWhileConnected(env, run);
  await receiveWhileConnected(env, run);
  await survivePeerClose(env, run);
  report.expect('stop.connected', run.stats('before stop()')?.connected === true, 'the worker was not connected when stop() was called');
  run.stop(3);
  const settled = await run.settleWithin(env.stopTimeout);
  report.expect('stop.connected', settled, `start() did not settle within ${env.stopTimeout} ms of stop() while connected`);
  report.expect('stop.connected', run.count('disconnected') === run.count('connected'), 'no disconnected event followed stop()');
  expectUnavailable(env, run, 'after stop()');
  const leaked = env.peer?.received.some((item) => item === 'kit:unavailable') === true;
  report.expect('send.unavailable', !leaked, 'a send() that threw still reached the peer');
  await finish(env, run, 'connected life');
}
