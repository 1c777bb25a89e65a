import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Presence core: publications (`presentity`) and stored subscriptions (`active_watchers`). */
export class Presence1763900100000 implements MigrationInterface {
  name = 'Presence1763900100000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'presentity',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'presentity', type: 'varchar', length: '255' },
          { name: 'event', type: 'varchar', length: '64' },
          { name: 'etag', type: 'varchar', length: '64' },
          { name: 'content_type', type: 'varchar', length: '128' },
          { name: 'body', type: 'text' },
          { name: 'source', type: 'varchar', length: '255' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'modified_at', type: 'bigint' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex(
      'presentity',
      new TableIndex({ name: 'idx_presentity_pres_event', columnNames: ['presentity', 'event'] }),
    );
    await q.createIndex(
      'presentity',
      new TableIndex({ name: 'idx_presentity_etag', columnNames: ['etag'], isUnique: true }),
    );
    await q.createTable(
      new Table({
        name: 'active_watchers',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'presentity', type: 'varchar', length: '255' },
          { name: 'event', type: 'varchar', length: '64' },
          { name: 'event_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'watcher', type: 'varchar', length: '255' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'accept', type: 'varchar', length: '512' },
          { name: 'call_id', type: 'varchar', length: '255' },
          { name: 'local_tag', type: 'varchar', length: '64' },
          { name: 'dialog', type: 'text' },
          { name: 'cseq_reserved', type: 'integer' },
          { name: 'remote_cseq', type: 'integer' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex(
      'active_watchers',
      new TableIndex({ name: 'idx_watchers_pres_event', columnNames: ['presentity', 'event'] }),
    );
    await q.createIndex(
      'active_watchers',
      new TableIndex({ name: 'idx_watchers_dialog', columnNames: ['call_id', 'local_tag'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('active_watchers');
    await q.dropTable('presentity');
  }
}
