import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** `ua-profile` documents (RFC 6080): one row per AoR and target, the bytes in slices of at most 60,000. */
export class UaProfiles1763900600000 implements MigrationInterface {
  name = 'UaProfiles1763900600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ua_profiles',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'aor', type: 'varchar', length: '255' },
          { name: 'profile_type', type: 'varchar', length: '16' },
          { name: 'vendor', type: 'varchar', length: '64' },
          { name: 'model', type: 'varchar', length: '64' },
          { name: 'version', type: 'varchar', length: '64' },
          { name: 'appids', type: 'varchar', length: '255' },
          { name: 'content_type', type: 'varchar', length: '128' },
          { name: 'etag', type: 'varchar', length: '64' },
          { name: 'size', type: 'integer' },
          { name: 'effective_by', type: 'integer', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'modified_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('ua_profiles', new TableIndex({ name: 'idx_ua_profiles_aor', columnNames: ['aor'] }));
    await q.createTable(
      new Table({
        name: 'ua_profile_chunks',
        columns: [
          { name: 'id', type: 'varchar', length: '80', isPrimary: true },
          { name: 'etag', type: 'varchar', length: '64' },
          { name: 'seq', type: 'integer' },
          { name: 'data', type: 'blob' },
        ],
      }),
    );
    await q.createIndex(
      'ua_profile_chunks',
      new TableIndex({ name: 'idx_ua_profile_chunks_etag', columnNames: ['etag'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ua_profile_chunks');
    await q.dropTable('ua_profiles');
  }
}
