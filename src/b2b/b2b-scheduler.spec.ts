import { FakeClock, type Random } from '../sip';
import { B2bScheduler, type B2bTiming } from './b2b-scheduler';

const TIMING: B2bTiming = { maxSubscribeDelay: 0 };

/** Randomness that hands out the given 32-bit fractions in turn. */
function fractions(...values: number[]): Random {
  let i = 0;
  return {
    hex: () =>
      Math.floor(values[i++ % values.length] * 0x1_0000_0000)
        .toString(16)
        .padStart(8, '0'),
    tag: () => 't',
    branch: () => 'z9hG4bKb',
    callId: () => 'c',
  };
}

describe('B2bScheduler', () => {
  it('sends an initial SUBSCRIBE at once without maxSubscribeDelay, else spread at random over it', () => {
    const clock = new FakeClock(1_000_000);
    expect(new B2bScheduler(TIMING, clock, fractions(0.5)).initialAt()).toBe(1_000_000);
    const spread = new B2bScheduler({ ...TIMING, maxSubscribeDelay: 10 }, clock, fractions(0, 0.25, 0.999999));
    expect([spread.initialAt(), spread.initialAt(), spread.initialAt()]).toEqual([1_000_000, 1_002_500, 1_009_999]);
  });

  it('runs one task per key at its time; scheduling again replaces it, cancel and stop drop it', () => {
    const clock = new FakeClock(0);
    const s = new B2bScheduler(TIMING, clock, fractions(0));
    const ran: string[] = [];
    s.schedule('a', 1_000, () => ran.push('a@1000'));
    s.schedule('a', 3_000, () => ran.push('a@3000'));
    s.schedule('b', 2_000, () => ran.push('b'));
    s.schedule('c', 2_500, () => ran.push('c'));
    expect(s.dueAt('a')).toBe(3_000);
    s.cancel('c');
    clock.advance(1_500);
    expect(ran).toEqual([]);
    clock.advance(1_500);
    expect(ran).toEqual(['b', 'a@3000']);
    expect(s.dueAt('a')).toBeUndefined();
    s.schedule('d', 10_000, () => ran.push('d'));
    s.stop();
    clock.advance(10_000);
    expect(ran).toEqual(['b', 'a@3000']);
    expect(clock.pending).toBe(0);
  });

  it('runs a task scheduled in the past at once (a restart after its time)', () => {
    const clock = new FakeClock(50_000);
    const s = new B2bScheduler(TIMING, clock, fractions(0));
    const ran: number[] = [];
    s.schedule('late', 10_000, () => ran.push(clock.now()));
    clock.advance(0);
    expect(ran).toEqual([50_000]);
  });
});
