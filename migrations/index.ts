import { Location1763900000000 } from './1763900000000-location';

/** The one migration history, oldest first; valid on SQLite and MySQL (QueryRunner Table API only). */
export const MIGRATIONS = [Location1763900000000];
