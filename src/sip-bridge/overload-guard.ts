import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { systemClock, type AdmissionControl, type Clock, type TimerHandle, type UdpSocketStats } from '../sip';

/** Tells whether one resource is saturated (the commit queue, a connection pool, ...). */
export type OverloadProbe = () => boolean;

/** Reads the UDP socket's kernel counters (receive queue, drops); undefined where they cannot be read. */
export type SocketStatsSource = () => Promise<UdpSocketStats | undefined>;

export interface OverloadOptions {
  /** Event-loop delay in ms (how late a timer fires) above which the server counts as overloaded; 0 disables. */
  readonly maxLoopDelayMs: number;
  /** Length of a measurement window in ms. */
  readonly windowMs: number;
  /** How often the UDP socket's counters are read, in ms (default a quarter of the window). */
  readonly sampleMs?: number;
  /**
   * Most requests in flight (taken in, not answered); the in-flight limit adapts below it, and the admission
   * rate follows the socket (0: neither, only the event-loop delay and the probes shed).
   */
  readonly maxPending?: number;
  /** Bytes waiting in the UDP socket's receive queue above which it counts as backlogged. */
  readonly maxQueuedBytes?: number;
  /**
   * Fraction of the last window the event loop was busy, 0 to 1 (default: Node's event-loop utilization). A
   * growing socket queue counts as backed up only while the loop was busy at least BUSY_FRACTION of the
   * window: a loop with time to spare reads a burst (a cold JIT, a collection, a commit) off the queue soon.
   * Kernel drops count whatever the loop did.
   */
  readonly busy?: () => number;
  /** Methods whose new requests may be refused. */
  readonly methods?: readonly string[];
  /** Retry-After seconds of the 503. */
  readonly retryAfter?: number;
  readonly clock?: Clock;
  /** Told when shedding starts and ends. */
  readonly report?: (message: string) => void;
}

/** The admission limit never falls below this many requests in flight. */
const MIN_PENDING = 16;
/**
 * Work in flight is also kept to what the server finishes in this many ms at the rate it has shown it can
 * finish requests (Little's law), so that a flood's first burst cannot take in seconds of work; never below
 * MIN_BURST requests. Below T1 (500 ms): what is taken in is answered before the client's first
 * retransmission; a stall of a tenth of a second (a major collection, a large commit) at a rate the server
 * sustains does not make it refuse.
 */
const TARGET_LATENCY_MS = 400;
/** Per window, the capacity estimate falls by this factor when the server finishes less (halves in ~3.5 s). */
const CAPACITY_DECAY = 0.98;
const MIN_BURST = 64;
/** The admission rate never falls below this many new requests per second. */
const MIN_RATE = 50;
/** Windows after a cut before the next one: a socket backlog takes a few to be read off the queue. */
const CUT_SETTLE_WINDOWS = 3;
/** A cut of the in-flight limit keeps at least what the server finishes in this many ms at its last rate. */
const CUT_FLOOR_MS = 100;
/** A growing socket queue is a backlog only while the event loop is at least this busy (see `busy`). */
const BUSY_FRACTION = 0.9;

/** Node's event-loop utilization since the last call. */
function loopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

/**
 * Decides when to shed load (DESIGN.md: "under overload it sheds load (503 with Retry-After) and recovers"),
 * as the SIP stack's {@link AdmissionControl}. Signals, measured every window: how late the window's timer
 * fired (event-loop delay), the UDP socket's receive queue and the datagrams the kernel dropped (a flood
 * shows there first: what the kernel drops never reaches the process), the arrival and admission rates, work
 * in flight, and any probe (the commit queue). In a window where the socket dropped or its queue grew past a
 * bound, the rate at which new requests are admitted is cut to 80% of what was admitted or finished in it (a
 * token bucket, at least MIN_RATE/s), and the in-flight limit is halved (keeping CUT_FLOOR_MS of work); a queue
 * that goes on growing is cut again only after CUT_SETTLE_WINDOWS. While the socket keeps up both grow back,
 * and the rate limit is lifted once arrivals fit under it and the queue has drained. So the server takes in
 * what it can finish, queued work (transactions, promises, writes) and memory stay bounded, and 503s, which
 * cost little, take the excess. While the loop lags or a probe fires, every new request is refused. Work
 * already accepted — transactions, dialogs, NOTIFYs — goes on.
 */
export class OverloadGuard implements AdmissionControl {
  readonly methods: ReadonlySet<string>;
  readonly retryAfter: number;
  private readonly probes: OverloadProbe[] = [];
  private readonly clock: Clock;
  private readonly maxPending: number;
  private timer: TimerHandle | undefined;
  private sampler: TimerHandle | undefined;
  private stats: SocketStatsSource | undefined;
  private pendingOf: (() => number) | undefined;
  private prevPending = 0;
  /** Requests finished per second, smoothed over windows. */
  private throughput = 0;
  /** The most the server has been finishing per second lately (a slowly decaying maximum of `throughput`). */
  private capacity = 0;
  private lagging = false;
  private limit: number;
  private lastDrops: number | undefined;
  /** Counts of the current window. */
  private arrivals = 0;
  private admitted = 0;
  private refusals = 0;
  /** Admissions per second while the socket backs up (Infinity: no limit), and the bucket's tokens. */
  private rate = Infinity;
  /** Windows ended so far, and the one in which the limits were last cut. */
  private windows = 0;
  private lastCut = -Infinity;
  private tokens = 0;
  private lastRefill = 0;
  private shedTotal = 0;
  private saturated = false;
  private shedding = false;
  private sampling = false;
  /** The socket backed up or dropped in this window; the limits were already cut in it. */
  private backlogged = false;
  private cut = false;
  private lastSample = { arrivalsPerSec: 0, admittedPerSec: 0, queued: 0, drops: 0 };
  private readonly busy: () => number;
  /** The event loop's busy fraction in the last window. */
  private busyFraction = 0;

  constructor(private readonly options: OverloadOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxPending = options.maxPending ?? 0;
    this.limit = this.maxPending;
    this.methods = new Set(options.methods ?? ['REGISTER', 'SUBSCRIBE', 'PUBLISH']);
    this.retryAfter = options.retryAfter ?? 2;
    this.busy = options.busy ?? loopUtilization();
  }

  /**
   * Starts measuring; `stats` reads the UDP socket's counters, several times a window; `pending` tells how
   * many requests are in flight (to measure how fast they finish).
   */
  start(stats?: SocketStatsSource, pending?: () => number): void {
    if (this.timer !== undefined) return;
    this.stats = stats;
    this.pendingOf = pending;
    if (stats !== undefined) {
      const every = this.options.sampleMs ?? Math.max(1, Math.floor(this.options.windowMs / 4));
      const sample = (): void => {
        this.sample(stats);
        this.sampler = this.clock.setTimeout(sample, every);
      };
      this.sampler = this.clock.setTimeout(sample, every);
    }
    const window = this.options.windowMs;
    const tick = (armedAt: number): void => {
      const now = this.clock.now();
      // The timer fires late by as long as the event loop was kept busy.
      const late = now - armedAt - window;
      this.lagging = this.options.maxLoopDelayMs > 0 && late > this.options.maxLoopDelayMs;
      this.endWindow(late);
      this.timer = this.clock.setTimeout(() => {
        tick(now);
      }, window);
    };
    tick(this.clock.now() - window);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.sampler !== undefined) this.clock.clearTimeout(this.sampler);
    this.timer = undefined;
    this.sampler = undefined;
    this.lagging = false;
  }

  addProbe(probe: OverloadProbe): void {
    this.probes.push(probe);
  }

  /** Whether every new request should be refused now (event loop lagging, or a probe saturated). */
  get overloaded(): boolean {
    return this.lagging || this.probes.some((p) => p());
  }

  /** The current limit on requests in flight (0: none). */
  get pendingLimit(): number {
    if (this.limit <= 0 || this.pendingOf === undefined) return this.limit;
    return Math.min(this.limit, Math.max(MIN_BURST, Math.ceil((this.capacity * TARGET_LATENCY_MS) / 1000)));
  }

  /** The current admission rate limit per second (Infinity: none). */
  get rateLimit(): number {
    return this.rate;
  }

  admit(_method: string, pending: number): boolean {
    this.arrivals++;
    let ok = !this.overloaded;
    if (ok && this.limit > 0 && pending >= this.pendingLimit) {
      this.saturated = true;
      ok = false;
    }
    if (ok && this.rate !== Infinity) {
      const now = this.clock.now();
      const burst = (this.rate * this.options.windowMs) / 1000;
      this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) * this.rate) / 1000);
      this.lastRefill = now;
      if (this.tokens >= 1) this.tokens--;
      else ok = false;
    }
    if (ok) this.admitted++;
    else this.refusals++;
    return ok;
  }

  shed(): void {
    this.shedTotal++;
  }

  /** Closes a measurement window: adapts the limit to what the socket showed, reports changes of state. */
  private endWindow(lateMs: number): void {
    const arrivals = this.arrivals;
    const refusals = this.refusals;
    const saturated = this.saturated;
    this.busyFraction = this.busy();
    this.windows++;
    this.lastSample.admittedPerSec = Math.round((this.admitted * 1000) / this.options.windowMs);
    if (this.pendingOf !== undefined) this.measureThroughput(this.pendingOf());
    this.arrivals = 0;
    this.admitted = 0;
    this.refusals = 0;
    this.saturated = false;
    this.lastSample.arrivalsPerSec = Math.round((arrivals * 1000) / this.options.windowMs);
    // The limits grow back in a window where the socket kept up (or, without socket counters, where the
    // in-flight limit was not reached).
    if (this.stats !== undefined ? !this.backlogged : !saturated) this.grow();
    this.backlogged = false;
    this.cut = false;
    if (refusals > 0 && !this.shedding) {
      this.shedding = true;
      this.options.report?.(
        `overload: refusing new ${[...this.methods].join('/')} with 503 (arrivals ${this.lastSample.arrivalsPerSec}/s, ` +
          `admitted ${this.lastSample.admittedPerSec}/s, in-flight limit ${this.pendingLimit}, loop late ${Math.max(0, Math.round(lateMs))} ms, ` +
          `socket queue ${this.lastSample.queued} B, drops ${this.lastSample.drops})`,
      );
    } else if (refusals === 0 && this.shedding && arrivals > 0) {
      this.shedding = false;
      this.options.report?.(`overload over: ${this.shedTotal} requests answered 503 so far`);
    }
  }

  /** Requests finished in the window: admitted ones plus those in flight at its start, less those still are. */
  private measureThroughput(pending: number): void {
    const perSec = (Math.max(0, this.admitted + this.prevPending - pending) * 1000) / this.options.windowMs;
    this.prevPending = pending;
    // While busy the count is the capacity; while idle the estimate fades slowly.
    this.throughput = pending > 0 ? (this.throughput + perSec) / 2 : Math.max(perSec, this.throughput * 0.95);
    // A stall (a collection, a long commit) finishes little for a window or two: the limit follows what the
    // server has shown it can do, not its worst window.
    this.capacity = Math.max(this.throughput, this.capacity * CAPACITY_DECAY);
  }

  private sample(stats: SocketStatsSource): void {
    if (this.sampling) return;
    this.sampling = true;
    stats()
      .then((s) => {
        this.sampling = false;
        if (s !== undefined) this.adapt(s);
      })
      .catch(() => {
        this.sampling = false;
      });
  }

  /** Applies a reading of the socket's counters: a backlog or new drops cut the limits, once a window. */
  private adapt(s: UdpSocketStats): void {
    const dropped = this.lastDrops !== undefined && s.drops > this.lastDrops;
    // A queue above the bound that is still growing: the socket is read slower than it fills.
    const growing =
      s.queued > (this.options.maxQueuedBytes ?? Infinity) &&
      s.queued >= this.lastSample.queued &&
      this.busyFraction >= BUSY_FRACTION;
    this.lastDrops = s.drops;
    this.lastSample.queued = s.queued;
    this.lastSample.drops = s.drops;
    if (this.maxPending <= 0 || (!dropped && !growing)) return;
    this.backlogged = true;
    // One cut a window; for a growing queue, also only once the last cut has had the windows it takes to show
    // (the backlog read off the queue). Drops cut every window.
    if (this.cut || (!dropped && this.windows - this.lastCut < CUT_SETTLE_WINDOWS)) return;
    this.cut = true;
    this.lastCut = this.windows;
    // 80% of what the server took in or finished in the last window, whichever is more: while it works through
    // a backlog it reads (and so takes in) few new requests, and a cut to 80% of those alone left it idle for
    // seconds while refusing most of a flood it could half serve.
    const basis = Math.max(this.lastSample.admittedPerSec, this.throughput);
    this.rate = Math.max(MIN_RATE, Math.floor(Math.min(this.rate, basis) * 0.8));
    this.tokens = 0;
    // Halved, but not below what the server finished in CUT_FLOOR_MS at its last rate: halving once a window
    // while a backlog drains took it to a sixteenth in 0.4 s, and work in flight, not the socket, then capped it.
    const floor = Math.ceil((this.throughput * CUT_FLOOR_MS) / 1000);
    this.limit = Math.max(MIN_PENDING, Math.floor(this.limit / 2), Math.min(floor, this.limit));
  }

  private grow(): void {
    if (this.maxPending > 0) {
      this.limit = Math.min(this.maxPending, this.limit + Math.max(MIN_PENDING, Math.floor(this.limit / 4)));
    }
    if (this.rate === Infinity) return;
    // Lifted once the arrivals fit under it and the socket is nearly drained (a loop busy with a backlog reads
    // fewer arrivals than are sent); otherwise raised by an eighth a window.
    const drained = this.lastSample.queued <= (this.options.maxQueuedBytes ?? Infinity) / 4;
    if (this.lastSample.arrivalsPerSec < this.rate && drained) this.rate = Infinity;
    else this.rate = Math.ceil(this.rate * 1.125);
  }
}
