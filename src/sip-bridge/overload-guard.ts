/** Tells whether one resource is saturated (the commit queue, a connection pool, ...). */
export type OverloadProbe = () => boolean;

export interface OverloadOptions {
  /** Event-loop delay in ms (how late a timer fires) above which the server counts as overloaded; 0 disables. */
  readonly maxLoopDelayMs: number;
  /** Length of a measurement window in ms. */
  readonly windowMs: number;
}

/**
 * Decides when to shed load (DESIGN.md: "under overload it sheds load (503 with Retry-After) and
 * recovers"): how late a timer armed every window fires (event-loop delay), and any registered probe. Work already
 * accepted — transactions, dialogs, NOTIFYs — goes on; only new work is refused while overloaded.
 */
export class OverloadGuard {
  private readonly probes: OverloadProbe[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lagging = false;

  constructor(private readonly options: OverloadOptions) {}

  start(): void {
    if (this.options.maxLoopDelayMs <= 0 || this.timer) return;
    const tick = (armedAt: number): void => {
      // The timer fires late by as long as the event loop was kept busy.
      this.lagging = Date.now() - armedAt - this.options.windowMs > this.options.maxLoopDelayMs;
      const now = Date.now();
      this.timer = setTimeout(() => {
        tick(now);
      }, this.options.windowMs);
      this.timer.unref();
    };
    tick(Date.now() - this.options.windowMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lagging = false;
  }

  addProbe(probe: OverloadProbe): void {
    this.probes.push(probe);
  }

  /** Whether new work should be refused now. */
  get overloaded(): boolean {
    return this.lagging || this.probes.some((p) => p());
  }
}
