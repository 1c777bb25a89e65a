import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * SIP digest authentication: `subscriber` (one row per user and domain, HA1 per algorithm for its realm,
 * never the password) and `server_secrets` (the nonce key every instance shares).
 */
export class Subscribers1763900800000 implements MigrationInterface {
  name = 'Subscribers1763900800000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'subscriber',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'username', type: 'varchar', length: '64' },
          { name: 'domain', type: 'varchar', length: '128' },
          { name: 'realm', type: 'varchar', length: '128' },
          { name: 'ha1_md5', type: 'varchar', length: '32' },
          { name: 'ha1_sha256', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
          { name: 'modified_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex(
      'subscriber',
      new TableIndex({ name: 'idx_subscriber_user', columnNames: ['username', 'domain'], isUnique: true }),
    );
    await q.createTable(
      new Table({
        name: 'server_secrets',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'value', type: 'varchar', length: '128' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('server_secrets');
    await q.dropTable('subscriber');
  }
}
