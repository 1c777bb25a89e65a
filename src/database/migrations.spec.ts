import { DataSource } from 'typeorm';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../test/utils/test-database';
import { resolveDataSourceOptions } from './data-source-options';

describe.each(databaseKinds())('migrations on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = new DataSource(await resolveDataSourceOptions(db));
    await ds.initialize();
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('create the schema the entities describe: generating a migration yields nothing', async () => {
    const applied = await ds.runMigrations({ transaction: 'each' });
    expect(applied.length).toBeGreaterThan(0);
    const drift = await ds.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('are idempotent at start and can be reverted to an empty schema', async () => {
    expect(await ds.runMigrations()).toEqual([]);
    for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration();
    const tables = await ds
      .createQueryRunner()
      .getTables([
        'location',
        'location_attrs',
        'presentity',
        'active_watchers',
        'ua_profiles',
        'ua_profile_chunks',
        'pua',
        'subscriber',
        'server_secrets',
        'api_keys',
        'watcher_rules',
      ]);
    expect(tables).toEqual([]);
    await ds.runMigrations();
  });
});
