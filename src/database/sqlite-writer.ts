import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { DEFAULT_SQLITE_CACHE_KIB } from './data-source-options';

/** One statement of a write transaction and its positional parameters. */
export interface WriteStatement {
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * The thread's code (plain JavaScript, so that it runs the same from the build and from ts-node or jest).
 * Each message is one transaction: BEGIN IMMEDIATE, the statements in order (prepared once per SQL text),
 * COMMIT; on any error ROLLBACK and the error's message and code go back.
 */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('cache_size = -' + workerData.cacheKib);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('foreign_keys = ON');
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const prepared = new Map();
parentPort.on('message', (m) => {
  if (m.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    begin.run();
    try {
      for (const s of m.statements) {
        let st = prepared.get(s.sql);
        if (st === undefined) prepared.set(s.sql, (st = db.prepare(s.sql)));
        st.run(s.params);
      }
      commit.run();
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { message: String(e && e.message), code: e && e.code } });
  }
});
`;

/** What {@link SqliteTransactions} needs of better-sqlite3's Database (the data source's own connection). */
export interface RawSqlite {
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare(sql: string): { run(params: unknown[]): unknown };
  exec(sql: string): unknown;
}

/** Most SQL texts whose prepared statements {@link SqliteTransactions} keeps (batches have a few shapes each). */
const MAX_PREPARED = 256;

/**
 * Write transactions run synchronously on the data source's own better-sqlite3 connection, as the writer
 * thread runs them on its own (BEGIN IMMEDIATE, the statements, COMMIT; ROLLBACK on any error, which is thrown
 * with better-sqlite3's code): no query runner, no promise per statement, the parameters bound from their
 * array instead of spread into arguments. A transaction is one synchronous call, so nothing else on the
 * connection can run inside it.
 */
export class SqliteTransactions {
  private readonly prepared = new Map<string, { run(params: unknown[]): unknown }>();

  constructor(private readonly db: RawSqlite) {}

  /**
   * The transactions of `dataSource`'s own better-sqlite3 connection: `current` while it is still on that open
   * connection, else new ones; undefined on MySQL or when the driver keeps no open connection.
   */
  static of(dataSource: DataSource, current: SqliteTransactions | undefined): SqliteTransactions | undefined {
    if (dataSource.options.type !== 'better-sqlite3') return undefined;
    const db = (dataSource.driver as unknown as { databaseConnection?: RawSqlite }).databaseConnection;
    if (db === undefined || !db.open || typeof db.prepare !== 'function') return undefined;
    return current?.db === db ? current : new SqliteTransactions(db);
  }

  write(statements: readonly WriteStatement[]): void {
    const db = this.db;
    this.statement('BEGIN IMMEDIATE').run([]);
    try {
      for (const s of statements) this.statement(s.sql).run(s.params);
      this.statement('COMMIT').run([]);
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }

  private statement(sql: string): { run(params: unknown[]): unknown } {
    let st = this.prepared.get(sql);
    if (st === undefined) {
      if (this.prepared.size >= MAX_PREPARED) this.prepared.clear();
      this.prepared.set(sql, (st = this.db.prepare(sql)));
    }
    return st;
  }
}

/** A failed write transaction of the writer thread, with better-sqlite3's code (SQLITE_BUSY, SQLITE_CONSTRAINT…). */
export class SqliteWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteWriteError';
  }
}

interface Pending {
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * Write transactions on an SQLite file run by a thread of their own, with its own connection: better-sqlite3
 * is synchronous, so on the main thread every statement and commit (and each WAL checkpoint) stops the event
 * loop, while here they use the second core and the main thread only waits for the answer. A promise settles
 * once its transaction has committed (or rolled back), so the durability contract holds as before.
 *
 * Readers keep using the main connection: in WAL mode they see each commit as soon as it returns and never
 * wait for the writer. The caller runs one transaction at a time and writes only through here while it does,
 * so the two connections do not contend for the write lock (writes elsewhere wait at most the busy timeout).
 */
export class SqliteWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private stopped: string | undefined;

  constructor(file: string, busyTimeoutMs: number, cacheKib = DEFAULT_SQLITE_CACHE_KIB) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file, busyTimeoutMs, cacheKib },
    });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; error?: { message: string; code?: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) p.reject(new SqliteWriteError(m.error.message, m.error.code));
      else p.resolve();
    });
    this.worker.on('error', (e) => {
      this.stop(`the SQLite writer thread failed: ${e.message}`);
    });
    this.worker.on('exit', () => {
      this.stop('the SQLite writer thread stopped');
    });
  }

  /** False once the thread has failed or was closed; a new writer is then needed. */
  get alive(): boolean {
    return this.stopped === undefined;
  }

  /** Runs `statements` as one transaction; resolves once it has committed. */
  write(statements: readonly WriteStatement[]): Promise<void> {
    if (this.stopped !== undefined) return Promise.reject(new SqliteWriteError(this.stopped, 'SQLITE_IOERR'));
    const id = this.next++;
    // The thread keeps the process alive only while a transaction is waiting for it.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, statements });
    });
  }

  /** Closes the thread's connection after the transactions already sent, and ends the thread. */
  async close(): Promise<void> {
    if (this.stopped !== undefined) return;
    const exited = new Promise<void>((resolve) => {
      this.worker.once('exit', () => {
        resolve();
      });
    });
    this.worker.ref();
    this.worker.postMessage({ close: true });
    await exited;
  }

  /** Fails every transaction still waiting: the thread is gone, and its connection with it. */
  private stop(why: string): void {
    this.stopped ??= why;
    const error = new SqliteWriteError(why, 'SQLITE_IOERR');
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
