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
