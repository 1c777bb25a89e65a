/** Where Debian's packages put Kamailio's modules and its SQLite table definitions. */
const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

export const KAMAILIO_MODULES_DIR = `/usr/lib/${MULTIARCH}/kamailio/modules`;
export const KAMAILIO_SQLITE_SCHEMA_DIR = '/usr/share/kamailio/db_sqlite';
