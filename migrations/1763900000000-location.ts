import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Location service: bindings (`location`) and per-AoR attributes (`location_attrs`). */
export class Location1763900000000 implements MigrationInterface {
  name = 'Location1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'location',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'domain', type: 'varchar', length: '64' },
          { name: 'aor', type: 'varchar', length: '255' },
          { name: 'contact', type: 'varchar', length: '1024' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'q', type: 'integer', isNullable: true },
          { name: 'call_id', type: 'varchar', length: '255' },
          { name: 'cseq', type: 'integer' },
          { name: 'instance', type: 'varchar', length: '255', isNullable: true },
          { name: 'reg_id', type: 'integer', isNullable: true },
          { name: 'path', type: 'text', isNullable: true },
          { name: 'user_agent', type: 'varchar', length: '255' },
          { name: 'source_proto', type: 'varchar', length: '8' },
          { name: 'source_ip', type: 'varchar', length: '64' },
          { name: 'source_port', type: 'integer' },
          { name: 'local_ip', type: 'varchar', length: '64' },
          { name: 'local_port', type: 'integer' },
          { name: 'connection_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex(
      'location',
      new TableIndex({ name: 'idx_location_domain_aor', columnNames: ['domain', 'aor'] }),
    );
    await q.createIndex('location', new TableIndex({ name: 'idx_location_expires', columnNames: ['expires_at'] }));
    await q.createTable(
      new Table({
        name: 'location_attrs',
        columns: [
          { name: 'domain', type: 'varchar', length: '64', isPrimary: true },
          { name: 'aor', type: 'varchar', length: '255', isPrimary: true },
          { name: 'attr_key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'value', type: 'text' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('location_attrs');
    await q.dropTable('location');
  }
}
