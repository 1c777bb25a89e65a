import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Bindings keep their Contact's display name and other parameters (reginfo `display-name`, `unknown-param`). */
export class ContactParams1763900500000 implements MigrationInterface {
  name = 'ContactParams1763900500000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'location',
      new TableColumn({ name: 'contact_params', type: 'text', isNullable: true, default: null }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('location', 'contact_params');
  }
}
