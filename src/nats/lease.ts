import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import type { BucketMirror } from './buckets.ts';
import { encodeJson } from './envelope.ts';

/**
 * What a shard writes under its membership key. A shard that is `ready`
 * claims peers and counts in every member's rendezvous; one that has just
 * (re)joined writes `ready: false` first, holds nothing, and its old claims
 * are free to take. An absent `ready` (an older shard) is ready.
 */
export interface MemberValue {
  readonly leaving: boolean;
  readonly ready?: boolean;
}

export function memberOf(value: string): MemberValue {
  return JSON.parse(value) as MemberValue;
}

/** What the lease asks of its shard. */
export interface LeaseHooks {
  /** Whether the shard holds a peer (then a lapse is due even before it said ready). */
  holding(): boolean;
  /** The lease may have lapsed: close every connection now, release nothing. */
  lapsed(): void;
  /** The shard may claim now (it just became ready): look again. */
  changed(): void;
}

/**
 * A shard's membership lease. The server expires the key `leaseTtl` after
 * the last renewal it stored; the lease counts as confirmed for
 * `leaseTtl − heartbeat` from the send of the last renewal the server acked,
 * on this process's monotonic clock. When that runs out the lease *lapses*:
 * the shard closes every connection and joins afresh, as after a restart,
 * under a new incarnation. Joining: `ready: false`, then `ready: true` a
 * while after the first confirmed renewal (a heartbeat when the process
 * starts, a quarter of one, 250 ms at most, after a lapse).
 */
export class MemberLease {
  readonly #kv: KV;
  readonly #mirror: BucketMirror;
  readonly #id: string;
  readonly #heartbeat: number;
  readonly #fenceAfter: number;
  readonly #log: Logger;
  readonly #hooks: LeaseHooks;
  #incarnation = 0;
  #announceReady = false;
  #ready = false;
  #leaving = false;
  #stopped = false;
  /** Monotonic time (performance.now()) at which the last confirmed renewal of this incarnation was sent. */
  #confirmedAt = -Infinity;
  /** The newest renewal whose outcome is known failed: no new claims until one succeeds. */
  #failed = false;
  #sent = 0;
  #settled = 0;
  #fenceTimer: NodeJS.Timeout | undefined;
  #readyTimer: NodeJS.Timeout | undefined;

  constructor(kv: KV, mirror: BucketMirror, id: string, timing: { leaseTtl: number; heartbeat: number }, log: Logger, hooks: LeaseHooks) {
    this.#kv = kv;
    this.#mirror = mirror;
    this.#id = id;
    this.#heartbeat = timing.heartbeat;
    this.#fenceAfter = timing.leaseTtl - timing.heartbeat;
    this.#log = log;
    this.#hooks = hooks;
  }

  /** Bumped at every lapse: a claim begun under an earlier incarnation must not dial. */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** A renewal saying `ready` was confirmed in this incarnation, and we are not leaving: we count ourselves. */
  get ready(): boolean {
    return this.#ready && !this.#leaving;
  }

  /** Whether the shard may claim and dial now, for a claim begun under `incarnation`. */
  mayClaim(incarnation: number): boolean {
    return incarnation === this.#incarnation && this.ready && !this.#stopped && this.#current();
  }

  /** Says `leaving` (the others stop counting us and take each peer as we release it). */
  leave(): void {
    this.#leaving = true;
    this.renew();
  }

  /** No more renewals, lapses or timers (the shard is closing). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#fenceTimer);
    clearTimeout(this.#readyTimer);
  }

  /**
   * Sends a renewal. Renewal never waits on anything else, not even an
   * earlier renewal: a put sent just before the connection dropped may never
   * be answered, and waiting for it to time out would let the fence fall due
   * after a short server restart. Only the outcome of the newest put sent so
   * far decides whether renewals are failing.
   */
  renew(): void {
    if (this.#stopped) return;
    // A renewal timer that fires late (the process was paused) must not say `ready` for a lease that lapsed.
    this.check();
    const incarnation = this.#incarnation;
    const sent = ++this.#sent;
    const sentAt = performance.now();
    const value: MemberValue = { leaving: this.#leaving, ready: this.#announceReady };
    this.#kv.put(this.#id, encodeJson(value)).then(
      (revision) => {
        this.#mirror.note(this.#id, { value: JSON.stringify(value), revision });
        if (sent > this.#settled) {
          this.#settled = sent;
          this.#failed = false;
        }
        if (incarnation !== this.#incarnation || this.#stopped) return;
        this.#confirmedAt = Math.max(this.#confirmedAt, sentAt);
        this.#armFence();
        if (value.ready === true && !this.#ready) {
          this.#ready = true;
          this.#hooks.changed();
        } else if (!this.#announceReady) this.#readySoon(incarnation);
      },
      (error: unknown) => {
        if (sent > this.#settled) {
          this.#settled = sent;
          this.#failed = true;
        }
        this.#log.warn({ err: error }, 'lease renewal failed: no new claims until one succeeds');
        this.check();
      }
    );
  }

  /**
   * Lapses once the fence is due (once per incarnation): a renewal we cannot
   * confirm may already have let the server expire our key, and then another
   * shard may claim what we hold. Called by the fence timer, every renewal
   * and every reconcile.
   */
  check(): void {
    if (this.#stopped || performance.now() - this.#confirmedAt < this.#fenceAfter) return;
    // A joining shard holds nothing, and a claim on its way checks the incarnation itself.
    if (!this.#announceReady && !this.#hooks.holding()) return;
    this.#incarnation++;
    this.#ready = false;
    this.#announceReady = false;
    clearTimeout(this.#readyTimer);
    this.#readyTimer = undefined;
    this.#log.warn('lease may have lapsed: closing every connection and joining afresh');
    this.#hooks.lapsed();
    // Join afresh at once, not at the next heartbeat.
    this.renew();
  }

  /** The last renewal did not fail, and the last confirmed one was sent less than the fence ago. */
  #current(): boolean {
    return !this.#failed && performance.now() - this.#confirmedAt < this.#fenceAfter;
  }

  #readySoon(incarnation: number): void {
    if (this.#readyTimer !== undefined) return;
    // After a lapse, the others that lost NATS with us come back with us; a rejoin should not add a heartbeat.
    const wait = incarnation === 0 ? this.#heartbeat : Math.min(250, this.#heartbeat / 4);
    this.#readyTimer = setTimeout(() => {
      this.#readyTimer = undefined;
      if (incarnation !== this.#incarnation || this.#leaving || this.#stopped) return;
      // Not current now: the next confirmed renewal starts the wait again.
      if (!this.#current()) return;
      this.#announceReady = true;
      this.renew();
    }, wait);
  }

  #armFence(): void {
    clearTimeout(this.#fenceTimer);
    const due = this.#confirmedAt + this.#fenceAfter - performance.now();
    this.#fenceTimer = setTimeout(() => this.check(), Math.max(0, due) + 1);
  }
}
