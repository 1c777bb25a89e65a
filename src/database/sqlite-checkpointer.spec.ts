import { statSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/utils/test-database';
import { resolveDataSourceOptions, sqlitePath } from './data-source-options';
import { GroupCommit } from './group-commit';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, SqliteCheckpointer } from './sqlite-checkpointer';

const MIB = 1024 * 1024;

describe('SqliteCheckpointer with GroupCommit', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    ds = new DataSource({
      ...(await resolveDataSourceOptions({ ...db, sqliteCheckpointThread: true })),
      migrationsRun: true,
    });
    await ds.initialize();
    await ds.query('CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('leaves the main connection a backstop only, and keeps the WAL from growing past a few megabytes', async () => {
    const [{ wal_autocheckpoint: pages }] =
      await ds.query<{ wal_autocheckpoint: number }[]>('PRAGMA wal_autocheckpoint');
    expect(pages).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
    const checkpointer = new SqliteCheckpointer(sqlitePath(db));
    const commits = new GroupCommit(ds, 0, { checkpointer });
    const value = 'x'.repeat(64 * 1024);
    let id = 0;
    try {
      // 96 MiB in 4 MiB transactions, a few milliseconds apart: the main connection alone would let the WAL
      // grow to its backstop (64 MiB of pages) before copying it.
      for (let round = 0; round < 24; round++) {
        const rows = Array.from({ length: 64 }, () => ++id);
        await commits.run(async (m) => {
          for (const r of rows) await m.query('INSERT INTO filler (id, v) VALUES (?, ?)', [r, value]);
        });
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      const wal = statSync(`${sqlitePath(db)}-wal`).size;
      expect(wal).toBeLessThan(40 * MIB);
      const [{ n }] = await ds.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM filler');
      expect(n).toBe(id);
    } finally {
      await commits.close();
    }
  });

  it('holds nothing back while the WAL is small, nor once its thread is closed', async () => {
    const checkpointer = new SqliteCheckpointer(sqlitePath(db));
    expect(checkpointer.beforeCommit()).toBeUndefined();
    await checkpointer.close();
    // A closed thread holds nothing back either.
    expect(checkpointer.beforeCommit()).toBeUndefined();
  });
});
