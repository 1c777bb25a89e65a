import { DataSource } from 'typeorm';
import { publicationRow } from '../../test/utils/entity-rows';
import { createTestDatabase, type TestDatabase } from '../../test/utils/test-database';
import { PublicationEntity } from '../pa/entities/publication.entity';
import { AorAttributeEntity } from '../location/entities/aor-attribute.entity';
import { resolveDataSourceOptions, sqlitePath } from './data-source-options';
import { isUnavailable } from './database-errors';
import { GroupCommit } from './group-commit';
import { SqliteWriteError, SqliteWriter } from './sqlite-writer';

describe('SqliteWriter and GroupCommit with it', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const writers: SqliteWriter[] = [];
  /** A group commit whose row batches go through writer threads (each one it makes is kept in `writers`). */
  const groupCommit = (delayMs: number, timeoutMs = 500): GroupCommit =>
    new GroupCommit(ds, delayMs, {
      timeoutMs,
      sqliteWriter: () => {
        const w = new SqliteWriter(sqlitePath(db), 50);
        writers.push(w);
        return w;
      },
    });
  const bodies = async (): Promise<string[][]> =>
    (await ds.getRepository(PublicationEntity).find({ order: { id: 'ASC' } })).map((r) => [r.id, r.body]);

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    ds = new DataSource({ ...(await resolveDataSourceOptions({ ...db, queryTimeoutMs: 500 })), migrationsRun: true });
    await ds.initialize();
  });

  beforeEach(async () => {
    await ds.getRepository(PublicationEntity).clear();
  });

  afterAll(async () => {
    for (const w of writers) await w.close();
    await ds.destroy();
    await db.drop();
  });

  it('runs statements as one transaction: all of them commit, or none when one fails', async () => {
    const writer = new SqliteWriter(sqlitePath(db), 50);
    writers.push(writer);
    const insert = 'INSERT INTO location_attrs (domain, aor, attr_key, value, updated_at) VALUES (?, ?, ?, ?, ?)';
    await writer.write([
      { sql: insert, params: ['location', 'sip:w@x', 'a', '1', 1] },
      { sql: insert, params: ['location', 'sip:w@x', 'b', '2', 1] },
    ]);
    expect(await ds.getRepository(AorAttributeEntity).countBy({ aor: 'sip:w@x' })).toBe(2);
    const failed = writer.write([
      { sql: insert, params: ['location', 'sip:w@y', 'a', '1', 1] },
      { sql: insert, params: ['location', 'sip:w@x', 'a', 'again', 1] },
    ]);
    await expect(failed).rejects.toBeInstanceOf(SqliteWriteError);
    await expect(failed).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) as unknown });
    expect(await ds.getRepository(AorAttributeEntity).countBy({ aor: 'sip:w@y' })).toBe(0);
    // The thread goes on after a failed transaction.
    await writer.write([{ sql: insert, params: ['location', 'sip:w@y', 'a', '1', 1] }]);
    expect(await ds.getRepository(AorAttributeEntity).countBy({ aor: 'sip:w@y' })).toBe(1);
  });

  it('commits row batches in the thread, the last write of a key winning, and work on the connection', async () => {
    const commits = groupCommit(5);
    await Promise.all([
      commits.upsert(PublicationEntity, 'a', publicationRow('a', 'one')),
      commits.upsert(PublicationEntity, 'b', publicationRow('b', 'one')),
      commits.upsert(PublicationEntity, 'a', publicationRow('a', 'two')),
      commits.delete(PublicationEntity, 'b'),
    ]);
    expect(writers.length).toBeGreaterThan(0);
    expect(await bodies()).toEqual([['a', 'two']]);
    const writes = jest.spyOn(writers[writers.length - 1], 'write');
    await Promise.all([
      commits.upsert(PublicationEntity, 'c', publicationRow('c', 'one')),
      commits.run((m) =>
        m.save(AorAttributeEntity, { domain: 'location', aor: 'sip:a@b', key: 'gc', value: 'v', updatedAt: 1 }),
      ),
    ]);
    expect(writes).not.toHaveBeenCalled();
    expect(await bodies()).toEqual([
      ['a', 'two'],
      ['c', 'one'],
    ]);
    expect(await ds.getRepository(AorAttributeEntity).countBy({ key: 'gc' })).toBe(1);
    await commits.close();
  });

  it('patches columns in the thread as on the connection', async () => {
    const commits = groupCommit(5);
    await commits.upsert(PublicationEntity, 'pt', publicationRow('pt', 'stored'));
    await Promise.all([
      commits.patch(PublicationEntity, 'pt', { body: 'patched' }),
      commits.patch(PublicationEntity, 'absent', { body: 'nowhere' }),
    ]);
    const row = await ds.getRepository(PublicationEntity).findOneByOrFail({ id: 'pt' });
    expect([row.body, row.etag]).toEqual(['patched', 'etag-pt-stored']);
    expect(await ds.getRepository(PublicationEntity).countBy({ id: 'absent' })).toBe(0);
    await commits.close();
  });

  it('writes more rows than one statement takes and updates rows in place', async () => {
    const commits = groupCommit(0);
    await Promise.all(
      Array.from({ length: 700 }, (_, i) =>
        commits.upsert(PublicationEntity, `bulk${i}`, publicationRow(`bulk${i}`, 'x')),
      ),
    );
    await commits.upsert(PublicationEntity, 'bulk7', publicationRow('bulk7', 'changed'));
    expect(await ds.getRepository(PublicationEntity).countBy({ body: 'x' })).toBe(699);
    expect((await ds.getRepository(PublicationEntity).findOneByOrFail({ id: 'bulk7' })).body).toBe('changed');
    await commits.close();
  });

  it('fails only the row the database refuses, by halving the batch', async () => {
    const commits = groupCommit(5);
    const writes = Array.from({ length: 16 }, (_, i) =>
      commits.upsert(
        PublicationEntity,
        `split${i}`,
        i === 11 ? Object.assign(publicationRow('split11', 'x'), { etag: null }) : publicationRow(`split${i}`, 'x'),
      ),
    );
    const settled = await Promise.allSettled(writes);
    expect(settled.map((s) => s.status).filter((s) => s === 'rejected')).toHaveLength(1);
    expect(settled[11].status).toBe('rejected');
    expect(await ds.getRepository(PublicationEntity).countBy({ body: 'x' })).toBe(15);
    await commits.close();
  });

  it('fails writes with 503 while another connection holds the write lock, then recovers', async () => {
    const commits = groupCommit(0);
    await commits.upsert(PublicationEntity, 'busy', publicationRow('busy', 'x'));
    const other = new DataSource({ type: 'better-sqlite3', database: sqlitePath(db) });
    await other.initialize();
    await other.query('BEGIN IMMEDIATE');
    try {
      await expect(commits.upsert(PublicationEntity, 'busy', publicationRow('busy', 'y'))).rejects.toMatchObject({
        status: 503,
      });
      expect(commits.health().ok).toBe(false);
    } finally {
      await other.query('ROLLBACK');
      await other.destroy();
    }
    await new Promise((r) => setTimeout(r, 1100));
    await commits.upsert(PublicationEntity, 'busy', publicationRow('busy', 'z'));
    expect(commits.health().ok).toBe(true);
    expect(await bodies()).toEqual([['busy', 'z']]);
    await commits.close();
  });

  it('commits nothing through the thread once the data source is closed (writes at shutdown fail as on it)', async () => {
    const other = new DataSource({ ...(await resolveDataSourceOptions({ ...db, queryTimeoutMs: 500 })) });
    await other.initialize();
    const commits = new GroupCommit(other, 0, {
      timeoutMs: 500,
      sqliteWriter: () => {
        const w = new SqliteWriter(sqlitePath(db), 50);
        writers.push(w);
        return w;
      },
    });
    await commits.upsert(PublicationEntity, 'open', publicationRow('open', 'x'));
    await other.destroy();
    await expect(commits.upsert(PublicationEntity, 'late', publicationRow('late', 'x'))).rejects.toBeDefined();
    expect(await bodies()).toEqual([['open', 'x']]);
    await commits.close();
  });

  it('refuses writes as unavailable once its thread is gone; the group commit makes a new thread', async () => {
    const commits = groupCommit(0);
    await commits.upsert(PublicationEntity, 'first', publicationRow('first', 'x'));
    const dead = writers[writers.length - 1];
    await dead.close();
    expect(dead.alive).toBe(false);
    const refused = dead.write([]);
    await expect(refused).rejects.toMatchObject({ code: 'SQLITE_IOERR' });
    expect(isUnavailable(await refused.catch((e: unknown) => e))).toBe(true);
    const made = writers.length;
    await commits.upsert(PublicationEntity, 'second', publicationRow('second', 'x'));
    expect(writers.length).toBe(made + 1);
    expect(await bodies()).toEqual([
      ['first', 'x'],
      ['second', 'x'],
    ]);
    await commits.close();
  });
});
