import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

/** A database a test runs against: SQLite always, MySQL/MariaDB too when TEST_DB_URL is set. */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'mysql';
  /** Value for `db.url` (empty for the SQLite file under `dataDir`). */
  readonly url: string;
  readonly dataDir: string;
  drop(): Promise<void>;
}

export type TestDatabaseKind = TestDatabase['kind'];

/** The kinds every database test runs on: `['sqlite']`, plus `'mysql'` when TEST_DB_URL is set. */
export function databaseKinds(): TestDatabaseKind[] {
  return process.env.TEST_DB_URL ? ['sqlite', 'mysql'] : ['sqlite'];
}

let counter = 0;

/** A fresh, empty database of the given kind: a new SQLite file, or a new MySQL schema beside TEST_DB_URL's. */
export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ph-test-'));
  if (kind === 'sqlite') {
    const drop = (): Promise<void> => {
      rmSync(dataDir, { recursive: true, force: true });
      return Promise.resolve();
    };
    return { kind, url: '', dataDir, drop };
  }
  const base = new URL(process.env.TEST_DB_URL ?? 'mysql://root@127.0.0.1:3306/test');
  const name = `ph_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = await createConnection({
    host: base.hostname,
    port: Number(base.port || 3306),
    user: decodeURIComponent(base.username),
    password: decodeURIComponent(base.password),
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    dataDir,
    drop: async () => {
      const c = await createConnection({
        host: base.hostname,
        port: Number(base.port || 3306),
        user: decodeURIComponent(base.username),
        password: decodeURIComponent(base.password),
      });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
