import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';

type Settle = { readonly resolve: (value: unknown) => void; readonly reject: (reason: unknown) => void };

/** A whole-row write keyed by primary key: the last one for a key in a batch wins. */
interface RowOp extends Settle {
  readonly kind: 'upsert' | 'delete';
  readonly entity: EntityTarget<ObjectLiteral>;
  readonly id: string;
  readonly row?: ObjectLiteral;
}

interface WorkOp extends Settle {
  readonly kind: 'work';
  readonly work: (manager: EntityManager) => Promise<unknown>;
}

type Op = RowOp | WorkOp;

/** Most rows per multi-row statement (SQLite allows 32,766 bound variables; 20 columns × 256 stays well below). */
const CHUNK = 256;

/**
 * Rows in the next statement: a power of two, so that a table has at most nine statement shapes and the
 * driver's prepared-statement cache keeps them all (preparing a 500-row INSERT costs more than running it).
 */
function chunkSize(remaining: number): number {
  let n = CHUNK;
  while (n > remaining) n >>= 1;
  return n;
}

/**
 * Group commit: writes queued while one transaction is being committed are committed together in the
 * next. A caller's promise settles only after its transaction has committed, so a 2xx sent on it
 * acknowledges durable state; under load many writes share one commit (DESIGN.md, durability contract).
 *
 * Whole-row writes by primary key ({@link upsert}, {@link delete}) are coalesced: per entity, one
 * multi-row `INSERT … ON CONFLICT/DUPLICATE KEY UPDATE` and one `DELETE … WHERE id IN (…)` per batch,
 * the last write of a key winning. Arbitrary work ({@link run}) keeps its place in the order.
 * Callers update in-memory caches after the promise resolves. When a batch fails, each of its writes is
 * retried alone, so that one bad write fails only its own caller.
 */
export class GroupCommit {
  private queue: Op[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private runner: QueryRunner | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly delayMs: number,
    private readonly maxBatch = 5000,
  ) {}

  /** Inserts or replaces the row whose primary key column `id` is `id`. */
  upsert<T extends ObjectLiteral>(entity: EntityTarget<T>, id: string, row: T): Promise<void> {
    return this.enqueue<void>((settle) => ({ kind: 'upsert', entity, id, row, ...settle }));
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

  /** Resolves when everything queued so far has been committed (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.start();
      }
      await this.running;
    }
  }

  private enqueue<T>(make: (settle: Settle) => Op): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(make({ resolve: resolve as (v: unknown) => void, reject }));
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    if (this.delayMs === 0 || this.queue.length >= this.maxBatch) {
      this.start();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.delayMs);
  }

  private start(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = this.flush().finally(() => {
      this.running = undefined;
      // Wait out the commit delay again (unless a full batch is waiting): a commit costs far more than a
      // row, so rows arriving meanwhile should share the next one.
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    let results: unknown[];
    try {
      results = await this.transaction(batch);
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0]?.reject(batchError);
        return;
      }
      for (const op of batch) {
        try {
          const [r] = await this.transaction([op]);
          op.resolve(r);
        } catch (e) {
          op.reject(e);
        }
      }
      return;
    }
    batch.forEach((op, i) => {
      op.resolve(results[i]);
    });
  }

  /**
   * One transaction on the committer's own long-lived query runner: TypeORM caches prepared statements
   * per runner, and a runner per transaction would prepare every statement anew.
   */
  private async transaction(batch: readonly Op[]): Promise<unknown[]> {
    this.runner ??= this.dataSource.createQueryRunner();
    const runner = this.runner;
    await runner.startTransaction();
    try {
      const results = await execute(runner.manager, batch);
      await runner.commitTransaction();
      return results;
    } catch (e) {
      try {
        await runner.rollbackTransaction();
      } catch {
        // The connection itself failed: start over with a new runner next time.
        this.runner = undefined;
        await runner.release().catch(() => undefined);
      }
      throw e;
    }
  }

  /** Releases the committer's connection (after {@link drain}). */
  async close(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (runner && !runner.isReleased) await runner.release().catch(() => undefined);
  }
}

/** Executes a batch in order, coalescing runs of row writes; returns each op's result. */
async function execute(m: EntityManager, batch: readonly Op[]): Promise<unknown[]> {
  const results: unknown[] = new Array(batch.length);
  let pending = new Map<EntityTarget<ObjectLiteral>, Map<string, ObjectLiteral | null>>();
  const writeRows = async (): Promise<void> => {
    for (const [entity, rows] of pending) await writeEntityRows(m, entity, rows);
    pending = new Map();
  };
  for (let i = 0; i < batch.length; i++) {
    const op = batch[i];
    if (op.kind === 'work') {
      await writeRows();
      results[i] = await op.work(m);
      continue;
    }
    let rows = pending.get(op.entity);
    if (!rows) pending.set(op.entity, (rows = new Map<string, ObjectLiteral | null>()));
    rows.delete(op.id); // keep insertion order = order of the last write
    rows.set(op.id, op.kind === 'upsert' ? (op.row ?? null) : null);
  }
  await writeRows();
  return results;
}

/** The SQL of a multi-row upsert / delete for one entity and row count, built once and reused. */
const sqlCache = new WeakMap<EntityMetadata, Map<string, string>>();

function cachedSql(meta: EntityMetadata, key: string, build: () => string): string {
  let byKey = sqlCache.get(meta);
  if (!byKey) sqlCache.set(meta, (byKey = new Map<string, string>()));
  let sql = byKey.get(key);
  if (sql === undefined) byKey.set(key, (sql = build()));
  return sql;
}

/**
 * Writes the final state of each key in one `DELETE … IN (…)` and one multi-row upsert per chunk. The SQL
 * is generated here rather than by TypeORM's query builder, which costs about 70 µs of CPU per row; column
 * names and values come from TypeORM's entity metadata.
 */
async function writeEntityRows(
  m: EntityManager,
  entity: EntityTarget<ObjectLiteral>,
  rows: Map<string, ObjectLiteral | null>,
): Promise<void> {
  const meta = m.connection.getMetadata(entity);
  const mysql = m.connection.options.type === 'mysql' || m.connection.options.type === 'mariadb';
  const q = (name: string): string => (mysql ? `\`${name}\`` : `"${name}"`);
  const columns = meta.columns;
  const upserts: ObjectLiteral[] = [];
  const deletes: string[] = [];
  for (const [id, row] of rows) {
    if (row) upserts.push(row);
    else deletes.push(id);
  }
  for (let i = 0; i < deletes.length;) {
    const ids = deletes.slice(i, i + chunkSize(deletes.length - i));
    i += ids.length;
    const sql = cachedSql(
      meta,
      `d${ids.length}`,
      () => `DELETE FROM ${q(meta.tableName)} WHERE ${q('id')} IN (${ids.map(() => '?').join(',')})`,
    );
    await m.query(sql, ids);
  }
  for (let i = 0; i < upserts.length;) {
    const chunk = upserts.slice(i, i + chunkSize(upserts.length - i));
    i += chunk.length;
    const sql = cachedSql(meta, `u${chunk.length}`, () => {
      const names = columns.map((c) => q(c.databaseName)).join(',');
      const tuple = `(${columns.map(() => '?').join(',')})`;
      const values = chunk.map(() => tuple).join(',');
      const others = columns.filter((c) => !c.isPrimary).map((c) => q(c.databaseName));
      const update = mysql
        ? `ON DUPLICATE KEY UPDATE ${others.map((c) => `${c}=VALUES(${c})`).join(',')}`
        : `ON CONFLICT(${q('id')}) DO UPDATE SET ${others.map((c) => `${c}=excluded.${c}`).join(',')}`;
      return `INSERT INTO ${q(meta.tableName)} (${names}) VALUES ${values} ${update}`;
    });
    const params: unknown[] = [];
    for (const row of chunk) {
      for (const c of columns) {
        const v: unknown = row[c.propertyName];
        params.push(v === undefined ? null : v);
      }
    }
    await m.query(sql, params);
  }
}
