import { DomainError } from '../common/domain-error';
import { DEFAULT_QUERY_TIMEOUT_MS } from './data-source-options';

/**
 * Driver error codes that say the database cannot serve now, rather than that a statement or row is wrong:
 * the connection is gone or was killed, the server is restarting or refuses connections, a query ran past
 * its time limit, a lock could not be had. A write failing with one of these is worth retrying later.
 */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  // Node sockets
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // mysql2
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'POOL_CLOSED',
  // MySQL / MariaDB server
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_STATEMENT_TIMEOUT',
  'ER_QUERY_TIMEOUT',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_CANT_LOCK',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_WRITE_INTERRUPTED',
  // SQLite (better-sqlite3): another connection holds the lock, the file cannot be written
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
]);

/** Raised by {@link withTimeout} when the database does not answer in time. */
export class QueryTimeoutError extends Error {
  readonly code = 'ER_QUERY_TIMEOUT';

  constructor(ms: number) {
    super(`no answer from the database within ${ms} ms`);
    this.name = 'QueryTimeoutError';
  }
}

function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, driverError } = e as { code?: unknown; driverError?: unknown };
  if (typeof code === 'string') {
    // better-sqlite3 codes carry the extended result: SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_WRITE, ...
    const base = /^SQLITE_[A-Z]+/.exec(code)?.[0];
    return base && UNAVAILABLE_CODES.has(base) ? base : code;
  }
  return driverError === undefined || driverError === e ? undefined : codeOf(driverError);
}

/**
 * Whether `e` says the database is unavailable (connection lost or killed, server down, time limit or lock
 * wait exceeded) rather than that the statement or its data is at fault.
 */
export function isUnavailable(e: unknown): boolean {
  if (e instanceof DatabaseUnavailableError) return true;
  const code = codeOf(e);
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  if (typeof e !== 'object' || e === null) return false;
  const { fatal, driverError, message } = e as { fatal?: unknown; driverError?: unknown; message?: unknown };
  // mysql2 marks errors that ended the connection as fatal ("Can't add new command when connection is in
  // closed state" has no code).
  if (fatal === true) return true;
  if (typeof message === 'string' && /connection is in closed state|Pool is closed/i.test(message)) return true;
  return driverError !== undefined && driverError !== e && isUnavailable(driverError);
}

/** Seconds for Retry-After: the query time limit, rounded up, at least one. */
export function retryAfterSeconds(queryTimeoutMs: number): number {
  return Math.max(1, Math.ceil(queryTimeoutMs / 1000));
}

/**
 * The database cannot serve now: 503 with Retry-After, over SIP and REST alike. The driver's error is kept
 * as `cause` for logs; clients read only that the database is unavailable.
 */
export class DatabaseUnavailableError extends DomainError {
  constructor(cause: unknown, retryAfter = retryAfterSeconds(DEFAULT_QUERY_TIMEOUT_MS)) {
    super(503, 'database unavailable, retry later', undefined, retryAfter);
    this.name = 'DatabaseUnavailableError';
    this.cause = cause;
  }
}

/** Rethrows `e`, as {@link DatabaseUnavailableError} when it says the database is unavailable. */
export function rethrowDatabaseError(e: unknown): never {
  if (e instanceof DatabaseUnavailableError || !isUnavailable(e)) throw e;
  throw new DatabaseUnavailableError(e);
}

/**
 * Rejects with {@link QueryTimeoutError} when `work` has not settled within `ms`. The work itself goes on
 * (a driver cannot always cancel it); this bounds how long a caller waits, e.g. for a connection from the pool.
 */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new QueryTimeoutError(ms));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
  });
}
