import { FakeClock } from '../sip';
import { OverloadGuard } from './overload-guard';

describe('OverloadGuard', () => {
  it('is overloaded while a probe says so, and recovers', () => {
    const guard = new OverloadGuard({ maxLoopDelayMs: 0, windowMs: 250 });
    let busy = false;
    guard.addProbe(() => busy);
    expect(guard.overloaded).toBe(false);
    busy = true;
    expect(guard.overloaded).toBe(true);
    busy = false;
    expect(guard.overloaded).toBe(false);
  });

  it('counts a blocked event loop as overload for the next window, then recovers', async () => {
    // Margins wide enough for a loaded CI machine: a 600 ms block against a 100 ms threshold.
    const guard = new OverloadGuard({ maxLoopDelayMs: 100, windowMs: 150 });
    guard.start();
    try {
      const until = Date.now() + 600;
      while (Date.now() < until) {
        // block the event loop
      }
      await new Promise((r) => setTimeout(r, 20));
      expect(guard.overloaded).toBe(true);
      const deadline = Date.now() + 5000;
      while (guard.overloaded && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(guard.overloaded).toBe(false);
    } finally {
      guard.stop();
    }
  });
});

describe('OverloadGuard admission', () => {
  const window = 100;

  function guardWith(stats: { queued: number; drops: number }, maxPending = 256, busy = { fraction: 1 }) {
    const clock = new FakeClock();
    const reports: string[] = [];
    const guard = new OverloadGuard({
      maxLoopDelayMs: 0,
      windowMs: window,
      maxPending,
      maxQueuedBytes: 1000,
      busy: () => busy.fraction,
      clock,
      report: (m) => reports.push(m),
    });
    guard.start(() => Promise.resolve({ ...stats }));
    return { clock, guard, reports };
  }

  async function windows(clock: FakeClock, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      clock.advance(window);
      await clock.flush();
    }
  }

  it('refuses past the in-flight limit and reports when shedding starts and ends', async () => {
    const { clock, guard, reports } = guardWith({ queued: 0, drops: 0 });
    expect(guard.admit('PUBLISH', 255)).toBe(true);
    expect(guard.admit('PUBLISH', 256)).toBe(false);
    await windows(clock, 1);
    expect(reports[0]).toMatch(/^overload: refusing new REGISTER\/SUBSCRIBE\/PUBLISH with 503 \(arrivals 20\/s/);
    guard.admit('PUBLISH', 0);
    await windows(clock, 1);
    expect(reports[1]).toMatch(/^overload over/);
    guard.stop();
  });

  it('halves the limit while the socket drops or backs up, and restores it once it keeps up', async () => {
    const stats = { queued: 0, drops: 0 };
    const { clock, guard } = guardWith(stats);
    await windows(clock, 1);
    expect(guard.pendingLimit).toBe(256);
    stats.drops = 10;
    await windows(clock, 1);
    expect(guard.pendingLimit).toBe(128);
    stats.drops = 20;
    await windows(clock, 1);
    expect(guard.pendingLimit).toBe(64);
    stats.queued = 5000;
    await windows(clock, 10);
    expect(guard.pendingLimit).toBe(16);
    expect(guard.admit('SUBSCRIBE', 16)).toBe(false);
    expect(guard.admit('SUBSCRIBE', 3)).toBe(true);
    stats.queued = 0;
    await windows(clock, 20);
    expect(guard.pendingLimit).toBe(256);
    guard.stop();
  });

  it('takes a growing queue for a backlog only while the event loop is busy; drops always', async () => {
    const stats = { queued: 0, drops: 0 };
    const busy = { fraction: 0.5 };
    const { clock, guard } = guardWith(stats, 256, busy);
    await windows(clock, 1);
    stats.queued = 5000;
    await windows(clock, 5);
    expect(guard.pendingLimit).toBe(256);
    busy.fraction = 0.95;
    await windows(clock, 2);
    expect(guard.pendingLimit).toBeLessThan(256);
    stats.queued = 0;
    busy.fraction = 0.5;
    await windows(clock, 20);
    expect(guard.pendingLimit).toBe(256);
    stats.drops = 5;
    await windows(clock, 1);
    expect(guard.pendingLimit).toBe(128);
    guard.stop();
  });

  it('limits the admission rate to 80% of what was admitted when the socket drops, and lifts it once arrivals fit', async () => {
    const stats = { queued: 0, drops: 0 };
    const { clock, guard } = guardWith(stats, 10_000);
    await windows(clock, 1);
    for (let i = 0; i < 100; i++) expect(guard.admit('PUBLISH', 0)).toBe(true);
    stats.drops = 1;
    await windows(clock, 1);
    expect(guard.rateLimit).toBe(800); // 100 in a 100 ms window: 1,000/s, cut to 80%
    let admitted = 0;
    for (let i = 0; i < 200; i++) if (guard.admit('PUBLISH', 0)) admitted++;
    expect(admitted).toBe(80); // one window's worth
    await windows(clock, 3);
    expect(guard.rateLimit).toBe(Infinity);
    guard.stop();
  });

  it('cuts to 80% of what was finished when fewer were taken in (a backlog being read), and lifts the limit once drained', async () => {
    const clock = new FakeClock();
    const stats = { queued: 0, drops: 0 };
    const guard = new OverloadGuard({
      maxLoopDelayMs: 0,
      windowMs: window,
      maxPending: 1000,
      maxQueuedBytes: 1000,
      busy: () => 1,
      clock,
    });
    guard.start(
      () => Promise.resolve({ ...stats }),
      () => 0,
    );
    for (let i = 0; i < 100; i++) guard.admit('SUBSCRIBE', 0);
    await windows(clock, 1); // 100 taken in and finished: 1,000/s
    for (let i = 0; i < 10; i++) guard.admit('SUBSCRIBE', 0);
    await windows(clock, 1); // 10 taken in (100/s); the estimate of what it finishes fades 5% a window
    stats.queued = 5000;
    await windows(clock, 1);
    expect(guard.rateLimit).toBe(722); // 80% of the 902.5/s finished lately, not of the 100/s taken in
    // Arrivals fit under it, but the socket still holds a backlog: raised by an eighth, not lifted.
    // (The socket is read a quarter-window apart, so each reading counts from the window after it.)
    stats.queued = 600;
    for (let w = 0; w < 2; w++) {
      for (let i = 0; i < 10; i++) guard.admit('SUBSCRIBE', 0);
      await windows(clock, 1);
    }
    expect(guard.rateLimit).toBe(813);
    stats.queued = 0;
    for (let w = 0; w < 2; w++) {
      for (let i = 0; i < 10; i++) guard.admit('SUBSCRIBE', 0);
      await windows(clock, 1);
    }
    expect(guard.rateLimit).toBe(Infinity);
    guard.stop();
  });

  it('keeps work in flight to what is finished in 400 ms at the rate shown lately, at least 64', async () => {
    const clock = new FakeClock();
    let pending = 0;
    const guard = new OverloadGuard({ maxLoopDelayMs: 0, windowMs: window, maxPending: 1000, clock });
    guard.start(undefined, () => pending);
    expect(guard.pendingLimit).toBe(64);
    for (let i = 0; i < 20; i++) guard.admit('PUBLISH', i);
    await windows(clock, 1); // 20 finished in 100 ms: 200/s, 80 in 400 ms
    expect(guard.pendingLimit).toBe(80);
    for (let i = 0; i < 100; i++) guard.admit('PUBLISH', 0);
    pending = 50;
    await windows(clock, 1); // 50 finished: 500/s, busy: smoothed to 350/s, 140 in 400 ms
    expect(guard.pendingLimit).toBe(140);
    expect(guard.admit('PUBLISH', 140)).toBe(false);
    expect(guard.admit('PUBLISH', 139)).toBe(true);
    await windows(clock, 1); // nothing finished (a stall): the limit follows the capacity shown, decaying slowly
    expect(guard.pendingLimit).toBe(138);
    guard.stop();
  });
});
