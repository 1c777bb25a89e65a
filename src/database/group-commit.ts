import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { execute, rowStatements, type Op, type RowOp, type Settle } from './batch-writer';
import { DatabaseUnavailableError, isUnavailable, QueryTimeoutError, retryAfterSeconds } from './database-errors';
import { DEFAULT_QUERY_TIMEOUT_MS } from './data-source-options';
import { RowCheck } from './row-check';
import type { SqliteCheckpointer } from './sqlite-checkpointer';
import { SqliteTransactions, type SqliteWriter } from './sqlite-writer';

/** Pause before the next transaction after the database was unavailable: doubling from the first to the last. */
const FIRST_PAUSE_MS = 50;
const LAST_PAUSE_MS = 1000;

/**
 * Attempts of a batch whose connection was lost before anything could commit: the pool may hand out other
 * connections the server closed before the driver noticed, and each of those fails at once.
 */
const LOST_CONNECTION_ATTEMPTS = 5;

/** How long a failed write keeps {@link GroupCommit.health} down when no write has been tried since. */
const FAILURE_MEMORY_MS = 10_000;

/**
 * Errors after which the connection is gone (closed, reset, killed) while nothing of the transaction can
 * have been committed: the batch is tried once more on a new connection at once.
 */
function connectionLost(e: unknown): boolean {
  if (!isUnavailable(e) || typeof e !== 'object' || e === null) return false;
  const err = (e as { driverError?: unknown }).driverError ?? e;
  const { code, fatal, message } = err as { code?: unknown; fatal?: unknown; message?: unknown };
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || code === 'ETIMEDOUT') return false;
  return (
    fatal === true ||
    code === 'ER_CONNECTION_KILLED' ||
    (typeof message === 'string' && message.includes('closed state'))
  );
}

export interface GroupCommitOptions {
  /**
   * The query time limit (db.queryTimeoutMs): a write whose transaction has not started this long after it
   * was queued is refused with 503, as is a batch whose statements run past it.
   */
  readonly timeoutMs?: number;
  /** Most writes per transaction. */
  readonly maxBatch?: number;
  /** Told when the database becomes unavailable and when it is back. */
  readonly logger?: { warn(message: string): void; log(message: string): void };
  /**
   * SQLite file only: makes the thread that commits batches of row writes ({@link upsert}, {@link delete}),
   * so that they run off the main thread; batches with {@link run} work stay on the data source's connection.
   */
  readonly sqliteWriter?: () => SqliteWriter;
  /** SQLite file only: the thread that checkpoints the WAL; a transaction waits when it asks (see the class). */
  readonly checkpointer?: Pick<SqliteCheckpointer, 'beforeCommit' | 'close'>;
}

/** Whether writes are being committed, for /health. */
export interface CommitHealth {
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * Group commit: writes queued while one transaction is being committed are committed together in the
 * next. A caller's promise settles only after its transaction has committed, so a 2xx sent on it
 * acknowledges durable state; under load many writes share one commit (DESIGN.md, durability contract).
 *
 * Row writes by primary key ({@link upsert}, {@link delete}, {@link patch}) are coalesced: per entity, one
 * multi-row `INSERT … ON CONFLICT/DUPLICATE KEY UPDATE` and one `DELETE … WHERE id IN (…)` per batch,
 * the last write of a key winning (a patch after a whole row is merged into it; alone it is an `UPDATE`
 * of its columns). Arbitrary work ({@link run}) keeps its place in the order.
 * Callers update in-memory caches after the promise resolves.
 *
 * Faults: a row whose text does not fit its column is refused before it is queued, so a batch never meets
 * one. When a batch fails all the same, it is split in halves until the failing write is alone — a few
 * transactions, not one per write. When the database is unavailable (connection lost, time limit, lock)
 * the writes fail with {@link DatabaseUnavailableError} (503, Retry-After), the connection is replaced, and
 * the next transaction waits a pause that grows while failures last; writes still queued when their time
 * limit passes are refused without being tried.
 */
export class GroupCommit {
  private queue: Op[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running: Promise<void> | undefined;
  private runner: QueryRunner | undefined;
  private writer: SqliteWriter | undefined;
  /** Row-write transactions on the SQLite connection itself, when there is no writer thread. */
  private raw: SqliteTransactions | undefined;
  private readonly makeWriter: (() => SqliteWriter) | undefined;
  private readonly checkpointer: GroupCommitOptions['checkpointer'];
  /** After {@link close}: no writer thread is started again (late writes take the connection, as before). */
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;
  private readonly maxBatch: number;
  private readonly retryAfter: number;
  private readonly logger: GroupCommitOptions['logger'];
  private readonly rowCheck: RowCheck;
  private pauseMs = 0;
  private pausedUntil = 0;
  private batchStartedAt = 0;
  /** When the last transaction ended (Date.now()). */
  private lastEndedAt = 0;
  private lastSuccessAt = 0;
  private lastFailureAt = 0;
  private lastFailure = '';

  constructor(
    private readonly dataSource: DataSource,
    private readonly delayMs: number,
    options: GroupCommitOptions = {},
  ) {
    this.rowCheck = new RowCheck(dataSource);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.maxBatch = options.maxBatch ?? 5000;
    this.retryAfter = retryAfterSeconds(this.timeoutMs);
    this.logger = options.logger;
    this.makeWriter = options.sqliteWriter;
    this.checkpointer = options.checkpointer;
  }

  /**
   * Inserts or replaces the row whose primary key column `id` is `id`. Rejects with
   * {@link FieldTooLongError} naming the column, without queueing, when a text does not fit its column.
   */
  upsert<T extends ObjectLiteral>(entity: EntityTarget<T>, id: string, row: T): Promise<void> {
    return this.writeRow('upsert', entity, id, row);
  }

  /**
   * Sets `columns` of the row whose primary key column `id` is `id` (an UPDATE of those columns only; no row
   * is created), checked as {@link upsert} checks a row.
   */
  patch<T extends ObjectLiteral>(entity: EntityTarget<T>, id: string, columns: Partial<T>): Promise<void> {
    return this.writeRow('patch', entity, id, columns);
  }

  private writeRow(kind: 'upsert' | 'patch', entity: EntityTarget<ObjectLiteral>, id: string, row: ObjectLiteral) {
    try {
      this.rowCheck.check(entity, row);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue<void>((settle) => ({ kind, entity, id, row, ...settle }));
  }

  /** Deletes the row whose primary key column `id` is `id`. */
  delete(entity: EntityTarget<ObjectLiteral>, id: string): Promise<void> {
    return this.enqueue<void>((settle) => ({ kind: 'delete', entity, id, ...settle }));
  }

  /** Runs `work` inside the next group transaction and resolves with its result once committed. */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.enqueue<T>((settle) => ({ kind: 'work', work, ...settle }));
  }

  /** Number of writes waiting for a commit. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Down while the last write failed because the database was unavailable (and nothing committed since,
   * within the last ten seconds), or while a transaction runs past the time limit.
   */
  health(now = Date.now()): CommitHealth {
    if (this.batchStartedAt > 0 && now - this.batchStartedAt > this.timeoutMs) {
      return { ok: false, error: `a commit has been running for ${now - this.batchStartedAt} ms` };
    }
    if (this.lastFailureAt > this.lastSuccessAt && now - this.lastFailureAt < FAILURE_MEMORY_MS) {
      return { ok: false, error: `writes are failing: ${this.lastFailure}` };
    }
    return { ok: true };
  }

  /** Resolves when everything queued so far has been committed (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running) {
      if (this.timer || this.immediate) {
        clearTimeout(this.timer);
        clearImmediate(this.immediate);
        this.timer = undefined;
        this.immediate = undefined;
        this.pausedUntil = 0;
        this.start();
      }
      await this.running;
    }
  }

  private enqueue<T>(make: (settle: Settle) => Op): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(
        make({ resolve: resolve as (v: unknown) => void, reject, deadline: Date.now() + this.timeoutMs }),
      );
      this.schedule();
      this.sweeper ??= setInterval(
        () => {
          this.refuseExpired();
        },
        Math.max(10, Math.min(250, this.timeoutMs / 4)),
      ).unref();
    });
  }

  /** Refuses queued writes whose time limit passed before their transaction started (the queue is in order). */
  private refuseExpired(now = Date.now()): void {
    let n = 0;
    while (n < this.queue.length && this.queue[n].deadline <= now) n++;
    if (n === 0) return;
    const error = new DatabaseUnavailableError(new QueryTimeoutError(this.timeoutMs), this.retryAfter);
    for (const op of this.queue.splice(0, n)) op.reject(error);
  }

  /**
   * A commit is due `delayMs` after the previous one ended (or after a pause that failures imposed): under load
   * the writes of that interval share one commit, while a write that arrives after a quiet spell is committed
   * after the current turn of the event loop, without waiting out the delay (writes queued in the same turn —
   * a change and the writes riding on it, the requests read from one poll of the socket — still share it).
   */
  private schedule(): void {
    if (this.running || this.timer || this.immediate) return;
    const now = Date.now();
    const wait = Math.max(this.pausedUntil - now, 0);
    if (wait === 0 && this.queue.length >= this.maxBatch) {
      this.start();
      return;
    }
    const due = Math.max(wait, this.lastEndedAt + this.delayMs - now);
    if (due <= 0) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.start();
      });
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, due);
  }

  private start(): void {
    this.refuseExpired();
    if (this.running || this.queue.length === 0) return;
    this.running = this.flush().finally(() => {
      this.running = undefined;
      this.lastEndedAt = Date.now();
      // Wait out the commit delay again (unless a full batch is waiting): a commit costs far more than a
      // row, so rows arriving meanwhile should share the next one.
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async flush(): Promise<void> {
    const gate = this.checkpointer?.beforeCommit();
    if (gate !== undefined) await gate;
    const batch = this.queue.splice(0, this.maxBatch);
    this.batchStartedAt = Date.now();
    try {
      await this.commit(batch);
    } finally {
      this.batchStartedAt = 0;
    }
  }

  /**
   * Commits `batch`; on a failure that is not the database's, splits it in halves until the failing write
   * is alone. Returns false when the database was unavailable (every write left is then refused).
   */
  private async commit(batch: readonly Op[]): Promise<boolean> {
    let results: unknown[];
    try {
      results = await this.transaction(batch);
    } catch (e) {
      if (isUnavailable(e)) {
        this.failed(e);
        const error = e instanceof DatabaseUnavailableError ? e : new DatabaseUnavailableError(e, this.retryAfter);
        for (const op of batch) op.reject(error);
        return false;
      }
      if (batch.length === 1) {
        batch[0].reject(e);
        return true;
      }
      const half = batch.length >>> 1;
      const first = batch.slice(0, half);
      const second = batch.slice(half);
      if (await this.commit(first)) return this.commit(second);
      const error = new DatabaseUnavailableError(new Error(this.lastFailure), this.retryAfter);
      for (const op of second) op.reject(error);
      return false;
    }
    const now = Date.now();
    if (this.lastFailureAt > this.lastSuccessAt) {
      this.logger?.log(`database available again (last failed write at ${new Date(this.lastFailureAt).toISOString()})`);
    }
    this.lastSuccessAt = now;
    this.pauseMs = 0;
    this.pausedUntil = 0;
    batch.forEach((op, i) => {
      op.resolve(results[i]);
    });
    return true;
  }

  private failed(e: unknown): void {
    const now = Date.now();
    if (this.lastFailureAt <= this.lastSuccessAt) {
      this.logger?.warn(`database unavailable, writes get 503 until it answers: ${(e as Error).message}`);
    }
    this.lastFailureAt = now;
    this.lastFailure = (e as Error).message;
    this.pauseMs = Math.min(Math.max(this.pauseMs * 2, FIRST_PAUSE_MS), LAST_PAUSE_MS);
    this.pausedUntil = now + this.pauseMs;
  }

  /**
   * One transaction. On SQLite a batch of row writes only goes to the writer thread when there is one (a file),
   * else runs synchronously on the data source's connection ({@link SqliteTransactions}). Other batches, and
   * every batch on MySQL, run on the committer's own long-lived query runner: TypeORM caches prepared statements
   * per runner, and a runner per transaction would prepare every statement anew. A runner whose connection
   * failed is replaced; when the connection was lost before anything could commit, the batch is tried again
   * on a new one, so that a restarted or killed connection costs no write.
   */
  private async transaction(batch: readonly Op[], attempt = 1): Promise<unknown[]> {
    // Once the data source is closed (at shutdown) writes fail as they do on it, rather than still commit.
    if (!this.closed && this.dataSource.isInitialized && batch.every((op): op is RowOp => op.kind !== 'work')) {
      if (this.makeWriter !== undefined) {
        if (!this.writer?.alive) this.writer = this.makeWriter();
        await this.writer.write(rowStatements(this.dataSource, batch));
        return new Array<unknown>(batch.length);
      }
      this.raw = SqliteTransactions.of(this.dataSource, this.raw);
      if (this.raw !== undefined) {
        this.raw.write(rowStatements(this.dataSource, batch));
        return new Array<unknown>(batch.length);
      }
    }
    this.runner ??= this.dataSource.createQueryRunner();
    const runner = this.runner;
    let committing = false;
    try {
      await runner.startTransaction();
      const results = await execute(runner.manager, batch);
      committing = true;
      await runner.commitTransaction();
      return results;
    } catch (e) {
      const unavailable = isUnavailable(e);
      const rolledBack =
        runner.isTransactionActive && !committing
          ? await runner.rollbackTransaction().then(
              () => true,
              () => false,
            )
          : !committing;
      if (unavailable || !rolledBack) await this.replaceRunner(runner);
      if (attempt < LOST_CONNECTION_ATTEMPTS && !committing && connectionLost(e)) {
        return this.transaction(batch, attempt + 1);
      }
      throw e;
    }
  }

  /** Drops the committer's runner; on MySQL its connection is destroyed rather than returned to the pool. */
  private async replaceRunner(runner: QueryRunner): Promise<void> {
    if (this.runner === runner) this.runner = undefined;
    const type = this.dataSource.options.type;
    if (type === 'mysql' || type === 'mariadb') {
      const connection = (runner as unknown as { databaseConnection?: { destroy?: () => void } }).databaseConnection;
      connection?.destroy?.();
    }
    await runner.release().catch(() => undefined);
  }

  /** Releases the committer's connection (after {@link drain}). */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const runner = this.runner;
    this.runner = undefined;
    if (runner && !runner.isReleased) await runner.release().catch(() => undefined);
    this.closed = true;
    const writer = this.writer;
    this.writer = undefined;
    await writer?.close();
    await this.checkpointer?.close();
  }
}
