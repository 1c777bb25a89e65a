import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Outgoing publications and subscriptions of the `pua` role (Kamailio's `pua` table), restored at start. */
export class Pua1763900716000 implements MigrationInterface {
  name = 'Pua1763900716000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'pua',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'owner', type: 'varchar', length: '64' },
          { name: 'owner_key', type: 'varchar', length: '1024' },
          { name: 'uri', type: 'varchar', length: '1024' },
          { name: 'from_uri', type: 'varchar', length: '1024' },
          { name: 'event', type: 'varchar', length: '64' },
          { name: 'route', type: 'varchar', length: '1024' },
          { name: 'expires', type: 'integer' },
          { name: 'content_type', type: 'varchar', length: '128' },
          { name: 'body', type: 'text' },
          { name: 'etag', type: 'varchar', length: '64' },
          { name: 'call_id', type: 'varchar', length: '255' },
          { name: 'local_tag', type: 'varchar', length: '64' },
          { name: 'cseq', type: 'integer' },
          { name: 'dialog', type: 'text', isNullable: true },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'retry_at', type: 'bigint' },
          { name: 'last_status', type: 'integer' },
          { name: 'last_reason', type: 'varchar', length: '255' },
          { name: 'options', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('pua');
  }
}
