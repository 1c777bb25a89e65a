import type { Clock, TimerHandle } from '../ports/clock';

/** What a {@link TimerQueue} calls when an entry falls due; `timer` is the code given to `add`. */
export interface TimerTarget {
  fire(timer: number): void;
}

/** Entries kept before the consumed head of the queue is cut off (amortizes the cost of `splice`). */
const COMPACT_AT = 1024;

/**
 * Timers that all run for the same `delay` (RFC 3261 §17 timers E, F, J, K for one set of T1/T2/T4): since
 * every entry is due `delay` after it was added, entries fall due in the order they were added, so a FIFO
 * with a single clock timer armed for its head replaces one clock timer and closure per entry. An entry
 * fires at the same clock time as its own `clock.setTimeout(delay)` would have; cancelled entries only
 * drop their target (no allocation, no search). The clock timer is cleared whenever no live entry is left.
 */
export class TimerQueue {
  private targets: (TimerTarget | undefined)[] = [];
  private codes: number[] = [];
  private due: number[] = [];
  private head = 0;
  /** Ticket of `targets[0]`: tickets stay valid across compaction. */
  private base = 0;
  private live = 0;
  private handle: TimerHandle | undefined;
  private armedFor = 0;
  private running = false;

  constructor(
    private readonly clock: Clock,
    readonly delay: number,
  ) {}

  /** Number of entries not yet fired or cancelled. */
  get size(): number {
    return this.live;
  }

  /** Schedules `target.fire(code)` in `delay` ms; returns a ticket for {@link cancel}. */
  add(target: TimerTarget, code: number): number {
    const ticket = this.base + this.targets.length;
    const at = this.clock.now() + this.delay;
    this.targets.push(target);
    this.codes.push(code);
    this.due.push(at);
    this.live++;
    if (this.handle === undefined && !this.running) this.arm(at);
    return ticket;
  }

  /** Cancels an entry; a ticket that already fired or was cancelled is ignored. */
  cancel(ticket: number): void {
    const i = ticket - this.base;
    if (i < this.head || i >= this.targets.length || this.targets[i] === undefined) return;
    this.targets[i] = undefined;
    this.live--;
    if (this.live === 0) this.reset();
  }

  private arm(at: number): void {
    this.armedFor = at;
    this.handle = this.clock.setTimeout(
      () => {
        this.run();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private run(): void {
    this.handle = undefined;
    // A clock timer may fire a little before Date.now() reaches its due time; never fire an entry early.
    const now = Math.max(this.clock.now(), this.armedFor);
    this.running = true;
    try {
      while (this.head < this.targets.length && this.due[this.head] <= now) {
        const target = this.targets[this.head];
        const code = this.codes[this.head];
        this.targets[this.head] = undefined;
        this.head++;
        if (target !== undefined) {
          this.live--;
          target.fire(code);
        }
      }
    } finally {
      this.running = false;
      this.skipCancelled();
      if (this.head > 0 && this.head >= this.targets.length) this.reset();
      else if (this.head >= COMPACT_AT && this.head * 2 >= this.targets.length) this.compact();
      if (this.handle === undefined && this.head < this.targets.length) this.arm(this.due[this.head]);
    }
  }

  private skipCancelled(): void {
    while (this.head < this.targets.length && this.targets[this.head] === undefined) this.head++;
  }

  private compact(): void {
    this.targets.splice(0, this.head);
    this.codes.splice(0, this.head);
    this.due.splice(0, this.head);
    this.base += this.head;
    this.head = 0;
  }

  /** No live entry: drop the arrays and the clock timer (so that a test clock has nothing pending). */
  private reset(): void {
    this.base += this.targets.length;
    this.targets = [];
    this.codes = [];
    this.due = [];
    this.head = 0;
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}

/** One {@link TimerQueue} per delay, created on first use. */
export class TimerQueues {
  private readonly queues = new Map<number, TimerQueue>();

  constructor(private readonly clock: Clock) {}

  for(delay: number): TimerQueue {
    let q = this.queues.get(delay);
    if (q === undefined) this.queues.set(delay, (q = new TimerQueue(this.clock, delay)));
    return q;
  }
}
