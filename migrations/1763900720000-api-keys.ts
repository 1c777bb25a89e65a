import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** API keys of the REST API and the WebSockets: the SHA-256 of each key, its role and the AoR of a user key. */
export class ApiKeys1763900720000 implements MigrationInterface {
  name = 'ApiKeys1763900720000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'hash', type: 'varchar', length: '64' },
          { name: 'prefix', type: 'varchar', length: '16' },
          { name: 'role', type: 'varchar', length: '8' },
          { name: 'aor', type: 'varchar', length: '255', isNullable: true },
          { name: 'label', type: 'varchar', length: '128' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await q.createIndex(
      'api_keys',
      new TableIndex({ name: 'idx_api_keys_hash', columnNames: ['hash'], isUnique: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('api_keys');
  }
}
