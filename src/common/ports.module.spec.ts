import { FakeClock } from '../sip';
import { every } from './ports.module';

describe('every', () => {
  it('runs a task at each interval on the given clock until stopped', () => {
    const clock = new FakeClock();
    let runs = 0;
    const stop = every(clock, 1000, () => runs++);
    clock.advance(999);
    expect(runs).toBe(0);
    clock.advance(2001);
    expect(runs).toBe(3);
    stop();
    clock.advance(5000);
    expect(runs).toBe(3);
    expect(clock.pending).toBe(0);
  });
});
