import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { ConfigError } from '../config/load-config';
import { processConfig } from '../config/process-config';
import { resolveDataSourceOptions } from '../database/data-source-options';
import { GroupCommit } from '../database/group-commit';
import { cryptoRandom, systemClock } from '../sip';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService, readNewApiKey } from './api-key.service';

const USAGE =
  'usage: npm run key:create -- --role admin|user [--aor sip:alice@example.com] [--label text] [--expires-at 2030-01-01]';

/**
 * `npm run key:create -- --role admin` (README, "Security"): creates an API key in the configured database
 * (DB_URL, DATA_DIR as for the server; migrations are applied first) and prints it on stdout, alone on its
 * line, for scripts; what it is goes to stderr.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      aor: { type: 'string' },
      label: { type: 'string' },
      'expires-at': { type: 'string' },
    },
  });
  const input = readNewApiKey(
    { role: values.role, aor: values.aor, label: values.label ?? 'key:create', expiresAt: values['expires-at'] },
    Date.now(),
  );
  const config = processConfig();
  const ds = new DataSource(await resolveDataSourceOptions(config.db));
  await ds.initialize();
  const commits = new GroupCommit(ds, 0, { timeoutMs: config.db.queryTimeoutMs });
  try {
    await ds.runMigrations({ transaction: 'each' });
    const keys = new ApiKeyService(new ApiKeyRepository(ds, commits), config, systemClock, cryptoRandom);
    const { record, key } = await keys.create(input);
    process.stderr.write(`created ${record.role} key ${record.id}${record.aor ? ` for ${record.aor}` : ''}:\n`);
    process.stdout.write(`${key}\n`);
  } finally {
    await commits.drain();
    await commits.close();
    await ds.destroy();
  }
}

main().catch((e: unknown) => {
  const message =
    e instanceof ConfigError
      ? e.message
      : e instanceof DomainError
        ? `${e.message}\n${USAGE}`
        : e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
          ? `${e.message}\n${USAGE}`
          : String((e as Error).stack ?? e);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
