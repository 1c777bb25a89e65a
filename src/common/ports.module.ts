import { Module } from '@nestjs/common';
import { cryptoRandom, systemClock, type Clock } from '../sip';

/** Injection token of the {@link Clock} port (STYLE.md habit 3): `@Inject(CLOCK) clock: Clock`. */
export const CLOCK = Symbol('Clock');
/** Injection token of the {@link Random} port: `@Inject(RANDOM) random: Random`. */
export const RANDOM = Symbol('Random');

/**
 * The time and randomness ports as Nest providers: the system clock and crypto randomness by default; a test
 * overrides them (`overrideProvider(CLOCK).useValue(new FakeClock())`) to run expiry on a fake clock.
 */
@Module({
  providers: [
    { provide: CLOCK, useValue: systemClock },
    { provide: RANDOM, useValue: cryptoRandom },
  ],
  exports: [CLOCK, RANDOM],
})
export class PortsModule {}

/**
 * Calls `task` every `ms` on `clock` (each run scheduled when the previous one was, like `setInterval`);
 * returns the function that stops it. The system clock's timers do not keep the process alive.
 */
export function every(clock: Clock, ms: number, task: () => void): () => void {
  let stopped = false;
  let handle = clock.setTimeout(function tick() {
    if (stopped) return;
    handle = clock.setTimeout(tick, ms);
    task();
  }, ms);
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}
