import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/app-config';
import type { SipLogger } from '../sip';

/** The process's one pino logger: JSON lines on stdout. */
export function createPino(level: LogLevel): Logger {
  return pino({ level, base: { service: 'presence-hub' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Nest's logger interface on top of pino, so framework and application logs share one format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }

  fatal(message: unknown, context?: string): void {
    this.pino.fatal({ context }, String(message));
  }
}

/** Injection token of the pino logger. */
export const PINO = Symbol('PINO');

/**
 * The SIP stack's logger port on pino. `tracer` takes the trace lines (for sip.trace, a child logger of level
 * trace, so the trace shows whatever LOG_LEVEL says); `null` drops them.
 */
export function sipLoggerOf(p: Logger, tracer: Logger | null): SipLogger {
  return {
    traceEnabled: tracer !== null,
    trace: (o, m) => {
      tracer?.trace(o, m);
    },
    debug: (o, m) => {
      p.debug(o, m);
    },
    info: (o, m) => {
      p.info(o, m);
    },
    warn: (o, m) => {
      p.warn(o, m);
    },
    error: (o, m) => {
      p.error(o, m);
    },
  };
}
