/**
 * The embedded default with auth.enabled (README, "Security"): the first start creates an admin API key and
 * prints it once in the start log (no fixed default secret); a restart does not create another; `npm run
 * key:create` makes keys for scripts in the same database.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { api } from '../utils/e2e-helpers';
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';

const ROOT = join(__dirname, '..', '..');
const PRINTED = /created one \(shown only now, keep it\): (ph_[A-Za-z0-9_-]{43})/;

/** `src/access/key-create.ts` (what `npm run key:create` runs, built) against the test database. */
async function keyCreate(db: TestDatabase, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/ts-node/dist/bin.js'),
      '--transpile-only',
      join(ROOT, 'src/access/key-create.ts'),
      ...args,
    ],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DB_URL: db.url, DATA_DIR: db.dataDir } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, out, err };
}

// On SQLite only: what the database does here (the key row, the admin check) is covered on every database by
// access-keys.e2e-spec.ts; this test is about the process (its start log, the command line).
describe('admin key at first start and key:create', () => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterAll(async () => {
    await server?.kill();
    await db.drop();
  });

  // Two server starts and a key:create, each a ts-node process: minutes on a busy machine.
  const PROCESSES_TIMEOUT_MS = 240_000;

  it(
    'prints a new admin key once, which works; a restart prints none; key:create adds keys',
    async () => {
      const ports = { sipPort: await freePort(), httpPort: await freePort() };
      server = await spawnServer(db, ports, { AUTH_ENABLED: 'true' });
      const printed = PRINTED.exec(server.output());
      expect(printed).not.toBeNull();
      const admin = printed![1];
      expect(
        (await api(ports.httpPort, 'GET', '/api/keys', undefined, { authorization: `Bearer ${admin}` })).status,
      ).toBe(200);
      await server.kill('SIGTERM');

      server = await spawnServer(db, ports, { AUTH_ENABLED: 'true' });
      expect(server.output()).not.toMatch(PRINTED);

      const created = await keyCreate(db, ['--role', 'user', '--aor', 'sip:kc@example.com']);
      expect(created.code).toBe(0);
      const key = created.out.trim();
      expect(key).toMatch(/^ph_[A-Za-z0-9_-]{43}$/);
      const own = await api(ports.httpPort, 'GET', '/api/subscriptions?presentity=sip:kc@example.com', undefined, {
        authorization: `Bearer ${key}`,
      });
      expect(own.status).toBe(200);
    },
    PROCESSES_TIMEOUT_MS,
  );
});
