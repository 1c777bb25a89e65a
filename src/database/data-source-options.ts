import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSourceOptions, Logger } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';
import { BACKSTOP_AUTOCHECKPOINT_PAGES } from './sqlite-checkpointer';

/** The database a URL names: MySQL/MariaDB through mysql2, or SQLite through better-sqlite3. */
export interface DatabaseTarget {
  readonly url: string;
  readonly dataDir: string;
  /** Time limit of every query in ms (db.queryTimeoutMs); {@link DEFAULT_QUERY_TIMEOUT_MS} when absent. */
  readonly queryTimeoutMs?: number;
  /** SQLite file: WAL checkpoints run on their own thread (db.sqliteCheckpointThread); default off here. */
  readonly sqliteCheckpointThread?: boolean;
  /** SQLite: page cache of the connection in KiB (db.sqliteCacheKib); {@link DEFAULT_SQLITE_CACHE_KIB} when absent. */
  readonly sqliteCacheKib?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 2000;

/**
 * SQLite's page cache per connection, in KiB. The driver builds SQLite with 16,000 KiB, which a connection fills
 * as the tables grow; the server serves its state from memory and reads the file at start, so the cache only
 * spares re-reading index pages from the OS cache on writes.
 */
export const DEFAULT_SQLITE_CACHE_KIB = 2048;

/**
 * TypeORM logs nothing: with `logging: false` it would still print "query is slow" to the console for every
 * query that reached the time limit; failures reach the callers, which report them.
 */
const SILENT: Logger = {
  logQuery: () => undefined,
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

/**
 * How long SQLite waits for a lock another connection holds. better-sqlite3 waits synchronously, with the
 * event loop stopped, so the wait stays short: a busy database fails the write (503) and the group commit
 * tries again after a pause, rather than freezing the server for the whole time limit.
 */
const SQLITE_BUSY_WAIT_MS = 50;

/** The busy timeout of every SQLite connection for the query time limit `timeoutMs`. */
export function sqliteBusyWaitMs(timeoutMs: number): number {
  return Math.min(SQLITE_BUSY_WAIT_MS, timeoutMs);
}

/** `sqlite::memory:` and `sqlite:/path/file.sqlite` name SQLite explicitly; empty means the data-dir file. */
export function sqlitePath(target: DatabaseTarget): string {
  if (target.url.startsWith('sqlite:')) return target.url.slice('sqlite:'.length);
  const dir = resolve(target.dataDir);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'presence-hub.sqlite');
}

export function isMysql(target: DatabaseTarget): boolean {
  return target.url.startsWith('mysql://');
}

/**
 * TypeORM options for the target. `synchronize` is never on: the schema comes from `migrations/` only.
 * SQLite runs in WAL mode with synchronous=NORMAL: a commit survives a killed process (kill -9), which is
 * the durability contract; FULL would also survive power loss at about a third of the write rate.
 * Every MySQL query and connection attempt has the time limit `queryTimeoutMs`; SQLite waits at most
 * {@link SQLITE_BUSY_WAIT_MS} for a lock.
 */
export function dataSourceOptions(target: DatabaseTarget, mariadb = false): DataSourceOptions {
  const timeoutMs = target.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    logger: SILENT,
  } as const;
  if (isMysql(target)) {
    return {
      ...common,
      type: mariadb ? 'mariadb' : 'mysql',
      url: target.url,
      connectorPackage: 'mysql2',
      charset: 'utf8mb4_bin',
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
      // mysql2 gives up on a query after `timeout` ms; the pool guard then replaces the connection.
      enableQueryTimeout: true,
      maxQueryExecutionTime: timeoutMs,
      extra: { connectionLimit: 10, connectTimeout: timeoutMs },
    };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    database: sqlitePath(target),
    enableWAL: true,
    prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
      db.pragma('synchronous = NORMAL');
      db.pragma(`cache_size = -${target.sqliteCacheKib ?? DEFAULT_SQLITE_CACHE_KIB}`);
      db.pragma(`busy_timeout = ${sqliteBusyWaitMs(timeoutMs)}`);
      // The checkpoint thread copies the WAL; this connection does it only past a much larger WAL.
      if (target.sqliteCheckpointThread === true) db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
    },
  };
}

/**
 * The database in use for the start log: the SQLite file's absolute path, or MySQL/MariaDB `user@host:port/db`
 * (never the password).
 */
export function describeDatabase(options: DataSourceOptions): string {
  if (options.type === 'better-sqlite3') {
    return options.database === ':memory:' ? 'SQLite in memory' : `SQLite ${resolve(options.database)}`;
  }
  if (options.type !== 'mysql' && options.type !== 'mariadb') return options.type;
  const kind = options.type === 'mariadb' ? 'MariaDB' : 'MySQL';
  try {
    const u = new URL(options.url ?? '');
    const user = u.username === '' ? '' : `${decodeURIComponent(u.username)}@`;
    return `${kind} ${user}${u.hostname}:${u.port === '' ? '3306' : u.port}${u.pathname}`;
  } catch {
    return kind;
  }
}

/**
 * Like {@link dataSourceOptions}, asking a MySQL-protocol server whether it is MariaDB first: TypeORM reads
 * MariaDB's column defaults differently, and a wrong guess shows up as schema drift.
 */
export async function resolveDataSourceOptions(target: DatabaseTarget): Promise<DataSourceOptions> {
  if (!isMysql(target)) return dataSourceOptions(target);
  // Loaded only for MySQL: a server on SQLite keeps the driver out of memory.
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({
    uri: target.url,
    connectTimeout: target.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
  });
  try {
    const [rows] = await connection.query('SELECT VERSION() AS v');
    const version = (rows as { v?: string }[])[0]?.v ?? '';
    return dataSourceOptions(target, /mariadb/i.test(version));
  } finally {
    await connection.end();
  }
}
