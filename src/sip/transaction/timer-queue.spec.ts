import { FakeClock } from '../ports/fake-clock';
import { TimerQueue, type TimerTarget } from './timer-queue';

function recorder(clock: FakeClock, log: string[], name: string): TimerTarget {
  return {
    fire: (code) => {
      log.push(`${name}:${code}@${clock.now() - 1_700_000_000_000}`);
    },
  };
}

describe('TimerQueue', () => {
  it('fires each entry its delay after it was added, in order, with one clock timer', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock, 500);
    const log: string[] = [];
    q.add(recorder(clock, log, 'a'), 1);
    clock.advance(100);
    q.add(recorder(clock, log, 'b'), 2);
    q.add(recorder(clock, log, 'c'), 3);
    expect(clock.pending).toBe(1);
    expect(q.size).toBe(3);
    clock.advance(399);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['a:1@500']);
    clock.advance(100);
    expect(log).toEqual(['a:1@500', 'b:2@600', 'c:3@600']);
    expect(clock.pending).toBe(0);
    expect(q.size).toBe(0);
  });

  it('skips cancelled entries and leaves no clock timer when nothing is live', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock, 500);
    const log: string[] = [];
    const a = q.add(recorder(clock, log, 'a'), 0);
    clock.advance(10);
    const b = q.add(recorder(clock, log, 'b'), 0);
    q.cancel(a);
    q.cancel(a);
    clock.advance(490);
    expect(log).toEqual([]);
    clock.advance(10);
    expect(log).toEqual(['b:0@510']);
    q.cancel(b); // already fired: ignored
    const c = q.add(recorder(clock, log, 'c'), 0);
    q.cancel(c);
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    expect(log).toEqual(['b:0@510']);
  });

  it('accepts entries added while firing and keeps tickets valid across compaction', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock, 100);
    const log: string[] = [];
    let again = 3;
    const repeating: TimerTarget = {
      fire: () => {
        log.push(`r@${clock.now() - 1_700_000_000_000}`);
        if (--again > 0) q.add(repeating, 0);
      },
    };
    q.add(repeating, 0);
    clock.advance(1000);
    expect(log).toEqual(['r@100', 'r@200', 'r@300']);
    const tickets: number[] = [];
    for (let i = 0; i < 3000; i++) tickets.push(q.add(recorder(clock, log, `x${i}`), 0));
    const keep = q.add(recorder(clock, log, 'keep'), 0);
    for (const t of tickets) q.cancel(t);
    expect(q.size).toBe(1);
    clock.advance(100);
    expect(log.at(-1)).toBe('keep:0@1100');
    q.cancel(keep);
    expect(q.size).toBe(0);
  });
});
