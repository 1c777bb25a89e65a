import { systemClock, type Clock, type TimerHandle } from '../ports/clock';
import type { Flow } from './transport';

/**
 * Tells whether an upper layer still uses a connection (a binding registered over it, a subscription whose
 * NOTIFYs go over it). A pinned connection is never closed for being idle.
 */
export type ConnectionPin = (flow: Flow) => boolean;

/** Limits on the connections of a stream transport (TCP, WS). */
export interface ConnectionLimits {
  /** Ms without data from an unpinned connection before it is closed (0: never). */
  idleTimeout?: number;
  /** Ms a connection may hold part of a message (a header section or a body shorter than its Content-Length) before it is closed (0: never). */
  partialTimeout?: number;
  /** Most connections at once; past it new ones are refused at once (0: no limit). */
  maxConnections?: number;
  /** Asked before an idle connection is closed; default: nothing is pinned. */
  isPinned?: ConnectionPin;
  clock?: Clock;
}

interface Supervised {
  readonly flow: Flow;
  readonly close: () => void;
  lastActivity: number;
  /** When the connection started holding an incomplete message; 0 when it holds none. */
  partialSince: number;
}

/** Refusals are reported at most once per this many ms (a connection flood must not flood the log). */
const REPORT_INTERVAL_MS = 1000;

/**
 * Keeps a stream transport's connections within bounds: refuses new ones past `maxConnections`, closes
 * connections that sent nothing for `idleTimeout` unless an upper layer pins them, and connections that
 * held an incomplete message for `partialTimeout` (a slow or stalled sender must not hold a socket and its
 * buffer). One timer for all connections, through the {@link Clock} port.
 */
export class ConnectionSupervisor {
  private readonly connections = new Map<string, Supervised>();
  private readonly clock: Clock;
  private readonly idleTimeout: number;
  private readonly partialTimeout: number;
  private readonly maxConnections: number;
  private timer: TimerHandle | undefined;
  private refused = 0;
  private lastReport = -Infinity;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly report: (message: string) => void,
  ) {
    this.clock = limits.clock ?? systemClock;
    this.idleTimeout = limits.idleTimeout ?? 0;
    this.partialTimeout = limits.partialTimeout ?? 0;
    this.maxConnections = limits.maxConnections ?? 0;
  }

  /** Number of connections supervised. */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Whether a new incoming connection may be taken; false past `maxConnections` (the caller closes it).
   * Refusals are reported, at most once a second with how many there were.
   */
  admit(remote: string): boolean {
    if (this.maxConnections <= 0 || this.connections.size < this.maxConnections) return true;
    this.refused++;
    const now = this.clock.now();
    if (now - this.lastReport >= REPORT_INTERVAL_MS) {
      this.report(
        `SIP connection limit of ${this.maxConnections} reached: refused ${this.refused} connection(s), last from ${remote}`,
      );
      this.lastReport = now;
      this.refused = 0;
    }
    return false;
  }

  /** Starts supervising a connection; `close` ends it. */
  add(id: string, flow: Flow, close: () => void): void {
    this.connections.set(id, { flow, close, lastActivity: this.clock.now(), partialSince: 0 });
    this.arm();
  }

  /** Data arrived on `id`; `partial`: the connection now holds an incomplete message. */
  activity(id: string, partial: boolean): void {
    const c = this.connections.get(id);
    if (c === undefined) return;
    const now = this.clock.now();
    c.lastActivity = now;
    if (!partial) c.partialSince = 0;
    else if (c.partialSince === 0) c.partialSince = now;
  }

  remove(id: string): void {
    this.connections.delete(id);
    if (this.connections.size === 0) this.disarm();
  }

  stop(): void {
    this.connections.clear();
    this.disarm();
  }

  /** Closes what is due now; exposed for tests. */
  sweep(): void {
    const now = this.clock.now();
    for (const [id, c] of this.connections) {
      if (this.partialTimeout > 0 && c.partialSince !== 0 && now - c.partialSince >= this.partialTimeout) {
        this.connections.delete(id);
        this.report(`closing ${id} from ${c.flow.remoteAddress}: incomplete message for ${now - c.partialSince} ms`);
        c.close();
      } else if (this.idleTimeout > 0 && now - c.lastActivity >= this.idleTimeout) {
        if (this.limits.isPinned?.(c.flow) ?? false) {
          c.lastActivity = now;
          continue;
        }
        this.connections.delete(id);
        c.close();
      }
    }
  }

  /** Sweep period: a quarter of the shortest timeout, between 25 ms and 1 s. */
  private get period(): number {
    const timeouts = [this.idleTimeout, this.partialTimeout].filter((t) => t > 0);
    if (timeouts.length === 0) return 0;
    return Math.min(1000, Math.max(25, Math.floor(Math.min(...timeouts) / 4)));
  }

  private arm(): void {
    const period = this.period;
    if (this.timer !== undefined || period === 0) return;
    const tick = (): void => {
      this.timer = undefined;
      this.sweep();
      if (this.connections.size > 0) this.timer = this.clock.setTimeout(tick, period);
    };
    this.timer = this.clock.setTimeout(tick, period);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
