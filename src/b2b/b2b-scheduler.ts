import type { Clock, Random, TimerHandle } from '../sip';

/** The timing B2B applies itself, in seconds (presence_b2b's parameter of the same name). */
export interface B2bTiming {
  /** > 0: an initial SUBSCRIBE waits a random delay up to this, so that many do not go out together. */
  readonly maxSubscribeDelay: number;
}

/**
 * When B2B sends its initial SUBSCRIBEs, and one timer per remote subscription to do it, on the {@link Clock}
 * and {@link Random} ports (tested on a fake clock in milliseconds). Refreshes (b2b.resubscribeDelta,
 * b2b.minResubscribeTime), retries (b2b.onErrorRetryTime) and the wait for the terminating NOTIFY
 * (b2b.waitForTermNotify) are the outgoing client's, given to it with each subscription.
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
