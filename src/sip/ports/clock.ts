/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = object | number;

/**
 * Time port (STYLE.md habit 3): every SIP timer (RFC 3261 §17, Table 4) and every expiry is scheduled
 * through it, so tests run on a {@link FakeClock} in milliseconds instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now()` and Node's timers (unref'd, so pending SIP timers never keep a process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const t = setTimeout(callback, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
