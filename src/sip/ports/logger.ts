/**
 * Logging port (STYLE.md habit 11): structured, `(obj, msg)` like pino, so the app injects its logger and a
 * SIP trace is greppable by Call-ID. `trace` carries whole messages.
 */
export interface SipLogger {
  /**
   * False when trace lines are dropped, so callers skip building them (a trace object per message is
   * measurable at tens of thousands of messages a second); absent means they may be read.
   */
  readonly traceEnabled?: boolean;
  trace(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = (): void => undefined;

/** A {@link SipLogger} that drops everything. */
export const noopLogger: SipLogger = {
  traceEnabled: false,
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
};
