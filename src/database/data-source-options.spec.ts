import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { dataSourceOptions, describeDatabase } from './data-source-options';

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
