import type { Clock, Random, TimerHandle } from '../sip';

/** The timing settings of `b2b`, in seconds (presence_b2b's parameters of the same names). */
export interface B2bTiming {
  /** Refresh this long before the remote subscription expires. */
  readonly resubscribeDelta: number;
  /** Never refresh sooner than this after the previous SUBSCRIBE. */
  readonly minResubscribeTime: number;
  /** After an error response or a time-out, try again after this. */
  readonly onErrorRetryTime: number;
  /** > 0: an initial SUBSCRIBE waits a random delay up to this (a restart does not send them all at once). */
  readonly maxSubscribeDelay: number;
  /** After SUBSCRIBE Expires 0, wait this long for the terminating NOTIFY. */
  readonly waitForTermNotify: number;
}

/**
 * When B2B sends its SUBSCRIBEs, and one timer per outgoing subscription to do it: pure time arithmetic on the
 * {@link Clock} and {@link Random} ports, so every rule is tested on a fake clock in milliseconds.
 */
export class B2bScheduler {
  private readonly timers = new Map<string, { readonly at: number; readonly handle: TimerHandle }>();

  constructor(
    private readonly timing: B2bTiming,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** When an initial SUBSCRIBE goes out: now, or spread at random over `maxSubscribeDelay`. */
  initialAt(now = this.clock.now()): number {
    const spread = this.timing.maxSubscribeDelay * 1000;
    if (spread <= 0) return now;
    return now + Math.floor(this.fraction() * spread);
  }

  /**
   * When a subscription granted until `expiresAt` is refreshed: `resubscribeDelta` before expiry, but never
   * sooner than `minResubscribeTime` after the SUBSCRIBE sent at `lastSentAt`.
   */
  refreshAt(expiresAt: number, lastSentAt: number): number {
    return Math.max(
      expiresAt - this.timing.resubscribeDelta * 1000,
      lastSentAt + this.timing.minResubscribeTime * 1000,
    );
  }

  /**
   * When a SUBSCRIBE that failed (error response, time-out) is tried again: `onErrorRetryTime` from now, or
   * later when the remote server asked for more (Retry-After, Subscription-State retry-after, RFC 6665 §4.1.3).
   */
  retryAt(now = this.clock.now(), retryAfter?: number): number {
    return now + Math.max(this.timing.onErrorRetryTime, retryAfter ?? 0) * 1000;
  }

  /** Until when the terminating NOTIFY is awaited after an unsubscribe sent at `now`. */
  termDeadline(now = this.clock.now()): number {
    return now + this.timing.waitForTermNotify * 1000;
  }

  /** Runs `task` at `at` for `key`, replacing what was scheduled for it. */
  schedule(key: string, at: number, task: () => void): void {
    this.cancel(key);
    const handle = this.clock.setTimeout(
      () => {
        if (this.timers.get(key)?.handle !== handle) return;
        this.timers.delete(key);
        task();
      },
      Math.max(0, at - this.clock.now()),
    );
    this.timers.set(key, { at, handle });
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (!t) return;
    this.clock.clearTimeout(t.handle);
    this.timers.delete(key);
  }

  /** When the task of `key` is due; undefined when none is scheduled. */
  dueAt(key: string): number | undefined {
    return this.timers.get(key)?.at;
  }

  /** Cancels every timer (shutdown). */
  stop(): void {
    for (const key of [...this.timers.keys()]) this.cancel(key);
  }

  /** A uniform fraction in [0, 1) from the randomness port. */
  private fraction(): number {
    return Number.parseInt(this.random.hex(4), 16) / 0x1_0000_0000;
  }
}
