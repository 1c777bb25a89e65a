import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Watcher authorization for presence: each presentity's rule per watcher (`*`: every other watcher). */
export class WatcherRules1763901800000 implements MigrationInterface {
  name = 'WatcherRules1763901800000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'watcher_rules',
        columns: [
          { name: 'presentity', type: 'varchar', length: '255', isPrimary: true },
          { name: 'watcher', type: 'varchar', length: '255', isPrimary: true },
          { name: 'policy', type: 'varchar', length: '16' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('watcher_rules');
  }
}
