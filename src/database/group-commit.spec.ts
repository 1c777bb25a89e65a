import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { publicationRow } from '../../test/utils/entity-rows';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../test/utils/test-database';
import { AorAttributeEntity } from '../location/entities/aor-attribute.entity';
import { PublicationEntity } from '../pa/entities/publication.entity';
import { FieldTooLongError } from '../common/field-limits';
import { DatabaseUnavailableError } from './database-errors';
import { resolveDataSourceOptions, sqlitePath } from './data-source-options';
import { GroupCommit } from './group-commit';
import { guardMysqlPool } from './mysql-pool-guard';

describe.each(databaseKinds())('GroupCommit on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = new DataSource({ ...(await resolveDataSourceOptions(db)), migrationsRun: true });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('commits writes queued together in one batch, the last write of a key winning', async () => {
    const commits = new GroupCommit(ds, 5);
    const writes = [
      commits.upsert(PublicationEntity, 'a', publicationRow('a', 'one')),
      commits.upsert(PublicationEntity, 'b', publicationRow('b', 'one')),
      commits.upsert(PublicationEntity, 'a', publicationRow('a', 'two')),
      commits.delete(PublicationEntity, 'b'),
      commits.run((m) =>
        m.save(AorAttributeEntity, { domain: 'location', aor: 'sip:a@b', key: 'k', value: 'v', updatedAt: 1 }),
      ),
    ];
    expect(commits.pending).toBe(5);
    await Promise.all(writes);
    const rows = await ds.getRepository(PublicationEntity).find({ order: { id: 'ASC' } });
    expect(rows.map((r) => [r.id, r.body])).toEqual([['a', 'two']]);
    expect(await ds.getRepository(AorAttributeEntity).countBy({ key: 'k' })).toBe(1);
  });

  it('without a commit delay, commits the writes queued in one turn of the event loop together', async () => {
    const commits = new GroupCommit(ds, 0);
    const counted = countTransactions(ds);
    try {
      await Promise.all([
        commits.upsert(PublicationEntity, 'turn1', publicationRow('turn1', 'turn')),
        commits.upsert(PublicationEntity, 'turn2', publicationRow('turn2', 'turn')),
      ]);
      expect(counted.transactions).toBe(1);
      await commits.upsert(PublicationEntity, 'turn3', publicationRow('turn3', 'turn'));
      expect(counted.transactions).toBe(2);
      // Arbitrary work goes through a query runner, its own transaction.
      await commits.run((m) =>
        m.save(AorAttributeEntity, { domain: 'location', aor: 'sip:t@b', key: 'k', value: 'v', updatedAt: 1 }),
      );
      expect(counted.transactions).toBe(3);
    } finally {
      counted.restore();
      await commits.close();
    }
  });

  it('commits row writes on the SQLite connection itself, and rolls a failed batch back whole', async () => {
    const commits = new GroupCommit(ds, 0);
    const counted = countTransactions(ds);
    try {
      await commits.upsert(PublicationEntity, 'raw1', publicationRow('raw1', 'kept'));
      // On SQLite without a query runner's transaction; MySQL has no such connection.
      expect(counted.runnerTransactions).toBe(kind === 'sqlite' ? 0 : 1);
      expect(counted.transactions).toBe(1);
      // A row that breaks a constraint fails its batch: split until it is alone, the others still committed.
      const bad = Object.assign(publicationRow('raw3', 'bad'), { etag: null as unknown as string });
      const results = await Promise.allSettled([
        commits.upsert(PublicationEntity, 'raw2', publicationRow('raw2', 'kept')),
        commits.upsert(PublicationEntity, 'raw3', bad),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      const rows = await ds.getRepository(PublicationEntity).find({ order: { id: 'ASC' } });
      expect(rows.filter((r) => r.id.startsWith('raw')).map((r) => r.id)).toEqual(['raw1', 'raw2']);
      if (kind === 'sqlite') expect(sqliteConnection(ds).inTransaction).toBe(false);
    } finally {
      counted.restore();
      await commits.close();
    }
  });

  it('patches some columns of a row: merged into a whole-row write of the batch, alone an UPDATE, nothing for a row not there', async () => {
    const commits = new GroupCommit(ds, 5);
    await commits.upsert(PublicationEntity, 'p1', publicationRow('p1', 'stored'));
    await Promise.all([
      commits.patch(PublicationEntity, 'p1', { body: 'patched', modifiedAt: 7 }),
      commits.upsert(PublicationEntity, 'p2', publicationRow('p2', 'whole')),
      commits.patch(PublicationEntity, 'p2', { body: 'whole+patch' }),
      commits.patch(PublicationEntity, 'p3', { body: 'nowhere' }),
      commits.upsert(PublicationEntity, 'p4', publicationRow('p4', 'gone')),
      commits.delete(PublicationEntity, 'p4'),
      commits.patch(PublicationEntity, 'p4', { body: 'after delete' }),
    ]);
    const rows = await ds
      .getRepository(PublicationEntity)
      .find({ where: [{ id: 'p1' }, { id: 'p2' }, { id: 'p3' }, { id: 'p4' }], order: { id: 'ASC' } });
    expect(rows.map((r) => [r.id, r.body, r.modifiedAt, r.etag])).toEqual([
      ['p1', 'patched', 7, 'etag-p1-stored'],
      ['p2', 'whole+patch', 1, 'etag-p2-whole'],
    ]);
    await expect(commits.patch(PublicationEntity, 'p1', { body: 'x'.repeat(70_000) })).rejects.toBeInstanceOf(
      FieldTooLongError,
    );
    await commits.close();
  });

  it('updates an existing row in place and handles more rows than one statement takes', async () => {
    const commits = new GroupCommit(ds, 0);
    await Promise.all(
      Array.from({ length: 1200 }, (_, i) =>
        commits.upsert(PublicationEntity, `bulk${i}`, publicationRow(`bulk${i}`, 'x')),
      ),
    );
    await commits.upsert(PublicationEntity, 'bulk7', publicationRow('bulk7', 'changed'));
    expect(await ds.getRepository(PublicationEntity).countBy({ body: 'x' })).toBe(1199);
    expect((await ds.getRepository(PublicationEntity).findOneByOrFail({ id: 'bulk7' })).body).toBe('changed');
  });

  it('commits a write after a quiet spell at once, and later ones the commit delay after the previous commit', async () => {
    const commits = new GroupCommit(ds, 3000, { timeoutMs: 10_000 });
    let started = Date.now();
    await commits.upsert(PublicationEntity, 'quiet1', publicationRow('quiet1', 'quiet'));
    expect(Date.now() - started).toBeLessThan(2000);
    started = Date.now();
    await commits.upsert(PublicationEntity, 'quiet2', publicationRow('quiet2', 'quiet'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    await commits.close();
  });

  it('fails only the write that cannot be committed', async () => {
    const commits = new GroupCommit(ds, 5);
    const good = commits.upsert(PublicationEntity, 'good', publicationRow('good', 'ok'));
    const bad = commits.run((m) => m.query('INSERT INTO no_such_table VALUES (1)'));
    // Matched by message: in a jest worker, better-sqlite3 makes its errors with the SqliteError class of the
    // first test file that loaded it, which is no Error of this file's realm.
    await expect(bad).rejects.toMatchObject({ message: expect.stringContaining('no_such_table') as unknown });
    await expect(good).resolves.toBeUndefined();
    expect(await ds.getRepository(PublicationEntity).countBy({ id: 'good' })).toBe(1);
  });
});

describe.each(databaseKinds())('GroupCommit faults on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = new DataSource({ ...(await resolveDataSourceOptions({ ...db, queryTimeoutMs: 500 })), migrationsRun: true });
    await ds.initialize();
    guardMysqlPool(ds);
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  /**
   * A write of row `id` while another client holds what it needs fails within the time limit with 503 and
   * /health down; once the other lets go, the next write commits and /health is up.
   */
  async function blockedThenRecovered(id: string, hold: () => Promise<void>, release: () => Promise<void>) {
    const commits = new GroupCommit(ds, 0, { timeoutMs: 500 });
    await commits.upsert(PublicationEntity, id, publicationRow(id, 'x'));
    await hold();
    try {
      const started = Date.now();
      await expect(commits.upsert(PublicationEntity, id, publicationRow(id, 'y'))).rejects.toMatchObject({
        status: 503,
      });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(commits.health().ok).toBe(false);
    } finally {
      await release();
    }
    // Past the longest pause between attempts.
    await new Promise((r) => setTimeout(r, 1100));
    await commits.upsert(PublicationEntity, id, publicationRow(id, 'z'));
    expect(commits.health().ok).toBe(true);
    await commits.close();
  }

  it('refuses a row that does not fit its column before it is queued, naming the column', async () => {
    const commits = new GroupCommit(ds, 5, { timeoutMs: 500 });
    const bad = commits.upsert(
      PublicationEntity,
      'long',
      Object.assign(publicationRow('long', 'x'), { presentity: 'a'.repeat(256) }),
    );
    expect(commits.pending).toBe(0);
    await expect(bad).rejects.toBeInstanceOf(FieldTooLongError);
    await expect(bad).rejects.toMatchObject({ status: 400, field: 'presentity' });
    await commits.close();
  });

  it('isolates a failing write by halving the batch, in a few transactions rather than one per write', async () => {
    const commits = new GroupCommit(ds, 5, { timeoutMs: 500 });
    const starts = jest.spyOn(commits as unknown as { transaction: () => Promise<unknown[]> }, 'transaction');
    const writes = Array.from({ length: 64 }, (_, i) =>
      i === 37
        ? commits.run((m) => m.query('INSERT INTO no_such_table VALUES (1)'))
        : commits.upsert(PublicationEntity, `split${i}`, publicationRow(`split${i}`, 'x')),
    );
    const settled = await Promise.allSettled(writes);
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
    expect(settled[37].status).toBe('rejected');
    expect(await ds.getRepository(PublicationEntity).countBy({ body: 'x', presentity: 'sip:alice@example.com' })).toBe(
      63,
    );
    // 1 + 2·log2(64) transactions at most.
    expect(starts.mock.calls.length).toBeLessThanOrEqual(13);
    await commits.close();
  });

  it('refuses writes still queued when their time limit passes, with 503 and Retry-After', async () => {
    const commits = new GroupCommit(ds, 1000, { timeoutMs: 200 });
    // The first write after a quiet spell is committed at once; the next one would wait the commit delay.
    await commits.upsert(PublicationEntity, 'early', publicationRow('early', 'x'));
    const started = Date.now();
    const write = commits.upsert(PublicationEntity, 'late', publicationRow('late', 'x'));
    await expect(write).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(write).rejects.toMatchObject({ status: 503, retryAfter: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    await commits.close();
  });

  if (kind === 'mysql') {
    it('replaces its connection when the server kills it, and the next write commits', async () => {
      const commits = new GroupCommit(ds, 0, { timeoutMs: 500 });
      await commits.upsert(PublicationEntity, 'before', publicationRow('before', 'x'));
      const schema = new URL(db.url).pathname.slice(1);
      const admin = await createConnection(db.url);
      const [rows] = await admin.query(
        'SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
        [schema],
      );
      // A connection may end by itself meanwhile ("Unknown thread id").
      for (const { id } of rows as { id: number }[]) await admin.query(`KILL CONNECTION ${id}`).catch(() => undefined);
      await admin.end();
      await new Promise((r) => setTimeout(r, 100));
      await commits.upsert(PublicationEntity, 'after', publicationRow('after', 'x'));
      expect(await ds.getRepository(PublicationEntity).countBy({ id: 'after' })).toBe(1);
      expect(commits.health().ok).toBe(true);
      await commits.close();
    });

    it('fails a write blocked by another client’s lock within the time limit with 503, then recovers', async () => {
      const other = await createConnection(db.url);
      await blockedThenRecovered(
        'locked',
        async () => {
          await other.query('START TRANSACTION');
          await other.query('SELECT * FROM presentity WHERE id = ? FOR UPDATE', ['locked']);
        },
        async () => {
          await other.query('ROLLBACK');
          await other.end();
        },
      );
    });
  } else {
    it('fails a write while another connection holds the write lock with 503, then recovers', async () => {
      const other = new DataSource({ type: 'better-sqlite3', database: sqlitePath(db) });
      await other.initialize();
      await blockedThenRecovered(
        'busy',
        async () => {
          await other.query('BEGIN IMMEDIATE');
        },
        async () => {
          await other.query('ROLLBACK');
          await other.destroy();
        },
      );
    });
  }
});

/** better-sqlite3's connection of an SQLite data source. */
function sqliteConnection(ds: DataSource): {
  inTransaction: boolean;
  prepare(sql: string): { run(...a: unknown[]): unknown };
} {
  return (ds.driver as unknown as { databaseConnection: ReturnType<typeof sqliteConnection> }).databaseConnection;
}

/**
 * Counts the transactions a {@link GroupCommit} starts on `ds`: those of its query runners and, on SQLite, those
 * it runs on the connection itself (its `BEGIN IMMEDIATE`).
 */
function countTransactions(ds: DataSource): {
  readonly transactions: number;
  readonly runnerTransactions: number;
  restore(): void;
} {
  const counted = { runner: 0, raw: 0 };
  const create = ds.createQueryRunner.bind(ds);
  const runnerSpy = jest.spyOn(ds, 'createQueryRunner').mockImplementation((mode) => {
    const runner = create(mode);
    const start = runner.startTransaction.bind(runner);
    runner.startTransaction = (level) => {
      counted.runner++;
      return start(level);
    };
    return runner;
  });
  const connection = ds.options.type === 'better-sqlite3' ? sqliteConnection(ds) : undefined;
  const prepare = connection?.prepare.bind(connection);
  const prepareSpy =
    connection &&
    prepare &&
    jest.spyOn(connection, 'prepare').mockImplementation((sql: string) => {
      const st = prepare(sql);
      if (sql !== 'BEGIN IMMEDIATE') return st;
      return {
        run: (...a: unknown[]) => {
          counted.raw++;
          return st.run(...a);
        },
      };
    });
  return {
    get transactions() {
      return counted.runner + counted.raw;
    },
    get runnerTransactions() {
      return counted.runner;
    },
    restore() {
      runnerSpy.mockRestore();
      prepareSpy?.mockRestore();
    },
  };
}
