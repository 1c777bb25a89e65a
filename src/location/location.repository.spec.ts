import { DataSource } from 'typeorm';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../test/utils/test-database';
import { resolveDataSourceOptions } from '../database/data-source-options';
import { GroupCommit } from '../database/group-commit';
import type { Binding } from './binding';
import { LocationRepository } from './location.repository';

function binding(extra: Partial<Binding> = {}): Binding {
  return {
    id: 'b1',
    domain: 'example.com',
    aor: 'sip:alice@example.com',
    uri: 'sip:alice@192.0.2.10:5062',
    displayName: 'Alice',
    params: [['+sip.src', null]],
    expiresAt: 2_000_000_600_000,
    q: 0.5,
    callId: 'reg-1',
    cseq: 1,
    path: ['<sip:edge.example.com;lr>'],
    userAgent: 'phone/1.0',
    source: {
      protocol: 'udp',
      remoteAddress: '192.0.2.10',
      remotePort: 5062,
      localAddress: '127.0.0.1',
      localPort: 5060,
    },
    createdAt: 2_000_000_000_000,
    updatedAt: 2_000_000_000_000,
    ...extra,
  };
}

describe.each(databaseKinds())('LocationRepository on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;
  let repo: LocationRepository;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = new DataSource({ ...(await resolveDataSourceOptions(db)), migrationsRun: true });
    await ds.initialize();
    repo = new LocationRepository(ds, new GroupCommit(ds, 0));
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('a refresh writes only the columns that changed, and the binding reads back whole', async () => {
    const first = binding();
    await repo.apply([first], []);
    // Changed behind the write-through (as no server would): a refresh that leaves user_agent as it was
    // must not write it, so the row keeps this value.
    await ds.query(`UPDATE location SET user_agent = 'changed-in-the-row' WHERE id = 'b1'`);
    const refreshed = binding({ expiresAt: 2_000_000_900_000, cseq: 2, updatedAt: 2_000_000_300_000 });
    await repo.apply([refreshed], [], [first]);

    const [loaded] = await repo.loadAll();
    expect(loaded).toEqual({ ...refreshed, userAgent: 'changed-in-the-row' });
  });

  it('a binding with a new id is a whole row, and deletes share the transaction', async () => {
    const kept = binding({ id: 'b2', aor: 'sip:bob@example.com' });
    await repo.apply([kept], ['b1'], [binding()]);
    const loaded = await repo.loadAll();
    expect(loaded).toEqual([kept]);
  });
});
