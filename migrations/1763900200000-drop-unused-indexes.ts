import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Subscriptions are served from memory and read from the table only whole, at start: its two secondary
 * indexes were never used by a query, yet every insert paid for them (random keys, one dirty page each).
 */
export class DropUnusedIndexes1763900200000 implements MigrationInterface {
  name = 'DropUnusedIndexes1763900200000';

  async up(q: QueryRunner): Promise<void> {
    await q.dropIndex('active_watchers', 'idx_watchers_pres_event');
    await q.dropIndex('active_watchers', 'idx_watchers_dialog');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'active_watchers',
      new TableIndex({ name: 'idx_watchers_pres_event', columnNames: ['presentity', 'event'] }),
    );
    await q.createIndex(
      'active_watchers',
      new TableIndex({ name: 'idx_watchers_dialog', columnNames: ['call_id', 'local_tag'] }),
    );
  }
}
