/**
 * Jest `globalSetup` of the interop tier: Kamailio, the modules its configuration loads and its SQLite
 * table definitions must be on the machine. As root they are installed with apt-get; otherwise the run stops
 * with one line naming the packages (test/utils/prerequisites.ts).
 */
import { join } from 'node:path';
import { ensureTools, systemToolHost, type Tool } from '../utils/prerequisites';
import { KAMAILIO_MODULES, KAMAILIO_SQLITE_SCHEMAS } from './kamailio-config';
import { KAMAILIO_MODULES_DIR, KAMAILIO_SQLITE_SCHEMA_DIR } from './kamailio-paths';

/** The Debian package of each module the suite loads: the core ones come with `kamailio` itself. */
const MODULE_PACKAGES: Readonly<Record<string, string>> = {
  db_sqlite: 'kamailio-sqlite-modules',
  presence: 'kamailio-presence-modules',
  presence_xml: 'kamailio-presence-modules',
  presence_reginfo: 'kamailio-presence-modules',
  pua: 'kamailio-presence-modules',
  pua_reginfo: 'kamailio-presence-modules',
};

export const INTEROP_TOOLS: readonly Tool[] = [
  { command: 'kamailio', debianPackage: 'kamailio' },
  ...KAMAILIO_MODULES.map((m) => ({
    command: join(KAMAILIO_MODULES_DIR, `${m}.so`),
    debianPackage: MODULE_PACKAGES[m] ?? 'kamailio',
  })),
  ...KAMAILIO_SQLITE_SCHEMAS.map((s) => ({
    command: join(KAMAILIO_SQLITE_SCHEMA_DIR, `${s}-create.sql`),
    debianPackage: 'kamailio-sqlite-modules',
  })),
];

export default function globalSetup(): void {
  const problem = ensureTools(INTEROP_TOOLS, systemToolHost(), 'interop tests');
  if (problem === undefined) return;
  process.stderr.write(`\n${problem}\n`);
  process.exit(1);
}
