import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Internal watchers (B2B, PUA) are stored beside SIP ones: `owner` names the module their deliveries go to. */
export class InternalWatchers1763901700000 implements MigrationInterface {
  name = 'InternalWatchers1763901700000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'active_watchers',
      new TableColumn({ name: 'owner', type: 'varchar', length: '64', isNullable: true, default: null }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('active_watchers', 'owner');
  }
}
