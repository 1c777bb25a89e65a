import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { DataSource } from 'typeorm';
import { DEFAULT_SQLITE_CACHE_KIB, dataSourceOptions, describeDatabase } from './data-source-options';

describe('describeDatabase', () => {
  it('names the SQLite file by its absolute path', () => {
    const dataDir = join(tmpdir(), 'ph-describe');
    expect(describeDatabase(dataSourceOptions({ url: '', dataDir }))).toBe(
      `SQLite ${resolve(dataDir, 'presence-hub.sqlite')}`,
    );
    expect(describeDatabase(dataSourceOptions({ url: 'sqlite::memory:', dataDir }))).toBe('SQLite in memory');
  });

  it('names MySQL and MariaDB by user, host, port and database, never the password', () => {
    const url = 'mysql://hub:s3cret@db.example:3307/presence';
    expect(describeDatabase(dataSourceOptions({ url, dataDir: '.' }))).toBe('MySQL hub@db.example:3307/presence');
    expect(describeDatabase(dataSourceOptions({ url: 'mysql://root@127.0.0.1/test', dataDir: '.' }, true))).toBe(
      'MariaDB root@127.0.0.1:3306/test',
    );
    expect(describeDatabase(dataSourceOptions({ url, dataDir: '.' }))).not.toContain('s3cret');
  });
});

describe('SQLite page cache', () => {
  const cacheOf = async (target: Parameters<typeof dataSourceOptions>[0]): Promise<number> => {
    const ds = new DataSource(dataSourceOptions(target));
    await ds.initialize();
    try {
      const [{ cache_size: size }] = await ds.query<{ cache_size: number }[]>('PRAGMA cache_size');
      return size;
    } finally {
      await ds.destroy();
    }
  };

  it('is db.sqliteCacheKib, and 2 MiB by default instead of the 16 MB the driver is built with', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ph-cache-'));
    try {
      expect(await cacheOf({ url: '', dataDir, sqliteCacheKib: 512 })).toBe(-512);
      expect(await cacheOf({ url: '', dataDir })).toBe(-DEFAULT_SQLITE_CACHE_KIB);
      expect(DEFAULT_SQLITE_CACHE_KIB).toBe(2048);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
