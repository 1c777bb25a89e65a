import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Bindings learned from a reginfo NOTIFY keep where they came from (pua_reginfo loop prevention). */
export class ContactOrigin1763900717000 implements MigrationInterface {
  name = 'ContactOrigin1763900717000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'location',
      new TableColumn({ name: 'origin', type: 'varchar', length: '1024', isNullable: true, default: null }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('location', 'origin');
  }
}
