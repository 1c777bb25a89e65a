import { DataSource } from 'typeorm';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../test/utils/test-database';
import { AorAttributeEntity } from '../location/entities/aor-attribute.entity';
import { PublicationEntity } from '../pa/entities/publication.entity';
import { resolveDataSourceOptions } from './data-source-options';
import { GroupCommit } from './group-commit';

function publication(id: string, body: string): PublicationEntity {
  return Object.assign(new PublicationEntity(), {
    id,
    presentity: 'sip:alice@example.com',
    event: 'presence',
    etag: `etag-${id}-${body}`,
    contentType: 'application/pidf+xml',
    body,
    source: 'test',
    expiresAt: 2_000_000_000_000,
    modifiedAt: 1,
    createdAt: 1,
  });
}

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
      commits.upsert(PublicationEntity, 'a', publication('a', 'one')),
      commits.upsert(PublicationEntity, 'b', publication('b', 'one')),
      commits.upsert(PublicationEntity, 'a', publication('a', 'two')),
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

  it('updates an existing row in place and handles more rows than one statement takes', async () => {
    const commits = new GroupCommit(ds, 0);
    await Promise.all(
      Array.from({ length: 1200 }, (_, i) =>
        commits.upsert(PublicationEntity, `bulk${i}`, publication(`bulk${i}`, 'x')),
      ),
    );
    await commits.upsert(PublicationEntity, 'bulk7', publication('bulk7', 'changed'));
    expect(await ds.getRepository(PublicationEntity).countBy({ body: 'x' })).toBe(1199);
    expect((await ds.getRepository(PublicationEntity).findOneByOrFail({ id: 'bulk7' })).body).toBe('changed');
  });

  it('fails only the write that cannot be committed', async () => {
    const commits = new GroupCommit(ds, 5);
    const good = commits.upsert(PublicationEntity, 'good', publication('good', 'ok'));
    const bad = commits.run((m) => m.query('INSERT INTO no_such_table VALUES (1)'));
    await expect(bad).rejects.toThrow();
    await expect(good).resolves.toBeUndefined();
    expect(await ds.getRepository(PublicationEntity).countBy({ id: 'good' })).toBe(1);
  });
});
