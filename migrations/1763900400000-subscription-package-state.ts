import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Subscriptions keep their Event header parameters and their event package's own state across restarts. */
export class SubscriptionPackageState1763900400000 implements MigrationInterface {
  name = 'SubscriptionPackageState1763900400000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('active_watchers', [
      new TableColumn({ name: 'event_params', type: 'text', isNullable: true, default: null }),
      new TableColumn({ name: 'package_state', type: 'text', isNullable: true, default: null }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('active_watchers', 'package_state');
    await q.dropColumn('active_watchers', 'event_params');
  }
}
