import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import type { WriteStatement } from './sqlite-writer';

/**
 * How a group-commit batch reaches the database: the queued operations and the SQL that writes them, one
 * multi-row statement per entity and chunk instead of one per row ({@link GroupCommit} decides what goes
 * into a batch and when).
 */

export type Settle = {
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  /** Date.now() after which the write is refused (503) if its transaction has not started. */
  readonly deadline: number;
};

/**
 * A row write keyed by primary key: a whole row (upsert), its removal (delete), or some of its columns
 * (patch: an UPDATE of those columns; a row that is not there stays absent). The last whole-row write for a
 * key in a batch wins, and a patch after it in the batch is merged into it.
 */
export interface RowOp extends Settle {
  readonly kind: 'upsert' | 'delete' | 'patch';
  readonly entity: EntityTarget<ObjectLiteral>;
  readonly id: string;
  readonly row?: ObjectLiteral;
}

export interface WorkOp extends Settle {
  readonly kind: 'work';
  readonly work: (manager: EntityManager) => Promise<unknown>;
}

export type Op = RowOp | WorkOp;

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

/** Executes a batch in order, coalescing runs of row writes; returns each op's result. */
export async function execute(m: EntityManager, batch: readonly Op[]): Promise<unknown[]> {
  const results: unknown[] = new Array(batch.length);
  let pending: PendingRows = new Map();
  const writeRows = async (): Promise<void> => {
    for (const [entity, rows] of pending) {
      for (const st of entityStatements(m.connection, entity, rows)) await m.query(st.sql, st.params);
    }
    pending = new Map();
  };
  for (let i = 0; i < batch.length; i++) {
    const op = batch[i];
    if (op.kind === 'work') {
      await writeRows();
      results[i] = await op.work(m);
      continue;
    }
    addRow(pending, op);
  }
  await writeRows();
  return results;
}

/**
 * The statements that write a batch of row writes only (no {@link WorkOp}), coalesced as {@link execute}
 * does, for a writer that runs them as one transaction elsewhere.
 */
export function rowStatements(ds: DataSource, batch: readonly RowOp[]): WriteStatement[] {
  const pending: PendingRows = new Map();
  for (const op of batch) addRow(pending, op);
  const out: WriteStatement[] = [];
  for (const [entity, rows] of pending) out.push(...entityStatements(ds, entity, rows));
  return out;
}

/** Columns to set on a row the batch does not write whole. */
class ColumnPatch {
  constructor(readonly columns: ObjectLiteral) {}
}

/** Row writes waiting for their statements: per entity, the final write of each key (null: delete). */
type PendingRows = Map<EntityTarget<ObjectLiteral>, Map<string, ObjectLiteral | ColumnPatch | null>>;

function addRow(pending: PendingRows, op: RowOp): void {
  let rows = pending.get(op.entity);
  if (!rows) pending.set(op.entity, (rows = new Map<string, ObjectLiteral | ColumnPatch | null>()));
  const before = rows.get(op.id);
  rows.delete(op.id); // keep insertion order = order of the last write
  // A patch of a row removed earlier in the batch leaves it removed.
  if (op.kind !== 'patch' || before === null) rows.set(op.id, op.kind === 'upsert' ? (op.row ?? null) : null);
  else if (before === undefined) rows.set(op.id, new ColumnPatch(op.row ?? {}));
  else if (before instanceof ColumnPatch) rows.set(op.id, new ColumnPatch({ ...before.columns, ...op.row }));
  else rows.set(op.id, { ...before, ...op.row });
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
 * The statements that write the final state of each key: one `DELETE … IN (…)` and one multi-row upsert per
 * chunk. The SQL is generated here rather than by TypeORM's query builder, which costs about 70 µs of CPU per
 * row; column names and values come from TypeORM's entity metadata.
 */
function entityStatements(
  ds: DataSource,
  entity: EntityTarget<ObjectLiteral>,
  rows: Map<string, ObjectLiteral | ColumnPatch | null>,
): WriteStatement[] {
  const meta = ds.getMetadata(entity);
  const mysql = ds.options.type === 'mysql' || ds.options.type === 'mariadb';
  const q = (name: string): string => (mysql ? `\`${name}\`` : `"${name}"`);
  const columns = meta.columns;
  const out: WriteStatement[] = [];
  const upserts: ObjectLiteral[] = [];
  const deletes: string[] = [];
  const patches: [id: string, patch: ColumnPatch][] = [];
  for (const [id, row] of rows) {
    if (row instanceof ColumnPatch) patches.push([id, row]);
    else if (row) upserts.push(row);
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
    out.push({ sql, params: ids });
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
    out.push({ sql, params });
  }
  for (const [id, patch] of patches) {
    const set = columns.filter((c) => !c.isPrimary && c.propertyName in patch.columns);
    if (set.length === 0) continue;
    const sql = cachedSql(
      meta,
      `p:${set.map((c) => c.propertyName).join(',')}`,
      () => `UPDATE ${q(meta.tableName)} SET ${set.map((c) => `${q(c.databaseName)}=?`).join(',')} WHERE ${q('id')}=?`,
    );
    const params: unknown[] = set.map((c): unknown => patch.columns[c.propertyName] ?? null);
    params.push(id);
    out.push({ sql, params });
  }
  return out;
}
