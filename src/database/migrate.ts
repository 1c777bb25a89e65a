import { DataSource } from 'typeorm';
import { ConfigError } from '../config/load-config';
import { processConfig } from '../config/process-config';
import { resolveDataSourceOptions } from './data-source-options';

/** `npm run migration:run`: applies pending migrations to the configured database and exits. */
async function main(): Promise<void> {
  const config = processConfig();
  const ds = new DataSource(await resolveDataSourceOptions(config.db));
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    process.stdout.write(
      applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}\n` : 'schema is up to date\n',
    );
  } finally {
    await ds.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof ConfigError ? e.message : String((e as Error).stack ?? e)}\n`);
  process.exit(1);
});
