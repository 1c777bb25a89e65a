import { readFileSync, statSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/utils/test-database';
import { resolveDataSourceOptions, sqlitePath } from './data-source-options';
import { GroupCommit } from './group-commit';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, SqliteCheckpointer } from './sqlite-checkpointer';

const MIB = 1024 * 1024;

/** The WAL header's salts (bytes 16-23), which SQLite changes each time the WAL starts over. */
function walSalt(file: string): string {
  return readFileSync(`${file}-wal`).subarray(16, 24).toString('hex');
}

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

  it('keeps the main connection from starting the WAL over (and syncing it) after a checkpoint; the thread does', async () => {
    const file = sqlitePath(db);
    const checkpointer = new SqliteCheckpointer(file);
    const commits = new GroupCommit(ds, 0, { checkpointer });
    const write = (id: number, v: string) =>
      commits.run(async (m) => {
        await m.query('INSERT OR REPLACE INTO filler (id, v) VALUES (?, ?)', [id, v]);
      });
    try {
      await write(1_000_000, 'a');
      await new Promise((resolve) => setTimeout(resolve, 250));
      await write(1_000_001, 'b');
      const salt = walSalt(file);
      // Every commit below follows a checkpoint that copied every frame (the thread runs one each 100 ms).
      for (let i = 2; i < 8; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await write(1_000_000 + i, 'c');
        expect(walSalt(file)).toBe(salt);
      }
      // Past RESET_PAGES the next commit waits for the thread, which starts the WAL over.
      const value = 'x'.repeat(64 * 1024);
      await commits.run(async (m) => {
        for (let r = 0; r < 320; r++)
          await m.query('INSERT OR REPLACE INTO filler (id, v) VALUES (?, ?)', [2_000_000 + r, value]);
      });
      // (A commit every 100 ms until then: the thread says so at its next checkpoint.)
      for (let i = 0; i < 50 && walSalt(file) === salt; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await write(1_000_100, 'd');
      }
      expect(walSalt(file)).not.toBe(salt);
      const [{ user_version: version }] = await ds.query<{ user_version: number }[]>('PRAGMA user_version');
      expect(version).toBe(0);
      const [{ n }] = await ds.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM filler WHERE id >= 1000000');
      expect(n).toBe(8 + 320 + 1);
    } finally {
      await commits.close();
    }
  });

  it('holds nothing back before its first checkpoint, nor once its thread is closed', async () => {
    const checkpointer = new SqliteCheckpointer(sqlitePath(db));
    expect(checkpointer.beforeCommit()).toBeUndefined();
    await checkpointer.close();
    // A closed thread holds nothing back either.
    expect(checkpointer.beforeCommit()).toBeUndefined();
  });
});
