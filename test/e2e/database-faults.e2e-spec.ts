/**
 * Database faults (issue 12, point 1): connections killed by the server are replaced and writes succeed
 * again; a write held past db.queryTimeoutMs by another client's lock gets 503 with Retry-After over SIP and
 * REST; /health reports the database down meanwhile and up again afterwards.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import type { RunningApp } from '../../src/app.factory';
import { sqlitePath } from '../../src/database/data-source-options';
import { api, pollUntil, registrationPath, type ApiResponse } from '../utils/e2e-helpers';
import { pidf, randomToken, SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

/** The time limit the app runs with here: short, so that the tests wait little. */
const LIMIT_MS = 1000;

/** Another client of the database, holding what makes the hub's writes wait. */
interface Blocker {
  release(): Promise<void>;
}

describe.each(databaseKinds())('database faults on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let sip: SipTestClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, { DB_QUERY_TIMEOUT_MS: String(LIMIT_MS) });
    sip = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp });
    sip.autoAnswer('NOTIFY', 200);
  });

  afterAll(async () => {
    await sip.close();
    await app.close();
    await db.drop();
  });

  const aor = (): string => `sip:fault-${randomToken(3)}@example.com`;
  const register = (): Promise<SipTestMessage> => sip.register({ aor: aor(), expires: 600, timeoutMs: 10_000 });
  const publish = (): Promise<SipTestMessage> => {
    const uri = aor();
    return sip.publish({ uri, event: 'presence', expires: 600, body: pidf(uri), timeoutMs: 10_000 });
  };
  const subscribe = async (): Promise<SipTestMessage> =>
    (await sip.subscribe({ uri: aor(), event: 'presence', expires: 600, timeoutMs: 10_000 })).response;
  const putAttribute = (): Promise<ApiResponse> =>
    api(app.httpPort, 'PUT', `${registrationPath(aor())}/attributes/k`, { value: 'v' });
  const health = async (): Promise<number> => (await api(app.httpPort, 'GET', '/health')).status;

  /** Every kind of write, each answered 200. */
  async function expectWritesSucceed(): Promise<void> {
    expect((await register()).status).toBe(200);
    expect((await publish()).status).toBe(200);
    expect((await subscribe()).status).toBe(200);
    expect((await putAttribute()).status).toBe(200);
  }

  /** Every kind of write refused within the limit (plus the one of a batch ahead) with 503 and Retry-After. */
  async function expectWritesRefused(): Promise<void> {
    for (const write of [register, publish, subscribe]) {
      const started = Date.now();
      const res = await write();
      expect(res.status).toBe(503);
      expect(Number(res.header('retry-after'))).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(3 * LIMIT_MS);
    }
    const rest = await putAttribute();
    expect(rest.status).toBe(503);
    expect(rest.json).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  }

  /** Writes block on `blocker`, fail with 503 meanwhile, and succeed once it lets go; /health follows. */
  async function blockedThenRecovered(blocker: Blocker): Promise<void> {
    try {
      await expectWritesRefused();
      const started = Date.now();
      expect(await health()).toBe(503);
      expect(Date.now() - started).toBeLessThan(2 * LIMIT_MS);
    } finally {
      await blocker.release();
    }
    await pollUntil(async () => ((await register()).status === 200 ? true : undefined), 10_000, 'REGISTER 200');
    await pollUntil(async () => ((await health()) === 200 ? true : undefined), 5_000, '/health 200');
    await expectWritesSucceed();
  }

  it('serves writes and /health before any fault', async () => {
    await expectWritesSucceed();
    expect(await health()).toBe(200);
  });

  if (kind === 'mysql') {
    const admin = (): Promise<Connection> => createConnection(db.url);
    const schema = (): string => new URL(db.url).pathname.slice(1);

    it('replaces connections the server killed: writes succeed again without a restart', async () => {
      const c = await admin();
      const [rows] = await c.query(
        'SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
        [schema()],
      );
      const ids = (rows as { id: number }[]).map((r) => r.id);
      expect(ids.length).toBeGreaterThan(0);
      // A connection may end by itself meanwhile ("Unknown thread id").
      for (const id of ids) await c.query(`KILL CONNECTION ${id}`).catch(() => undefined);
      await c.end();
      // A batch whose connection was lost before its commit is retried at once on a new one: no write fails.
      await expectWritesSucceed();
      expect(await health()).toBe(200);
    });

    it('answers 503 with Retry-After while another client holds the tables locked, then recovers', async () => {
      const c = await admin();
      await c.query('LOCK TABLES location WRITE, location_attrs WRITE, presentity WRITE, active_watchers WRITE');
      await blockedThenRecovered({
        release: async () => {
          await c.query('UNLOCK TABLES');
          await c.end();
        },
      });
    });

    it('answers 503 while another client holds a row lock in an open transaction, then recovers', async () => {
      const key = aor();
      expect((await putAttribute()).status).toBe(200);
      expect((await api(app.httpPort, 'PUT', `${registrationPath(key)}/attributes/k`, { value: 'v' })).status).toBe(
        200,
      );
      const c = await admin();
      await c.query('START TRANSACTION');
      await c.query('SELECT * FROM location_attrs WHERE aor = ? FOR UPDATE', [key]);
      try {
        const started = Date.now();
        const res = await api(app.httpPort, 'PUT', `${registrationPath(key)}/attributes/k`, { value: 'w' });
        expect(res.status).toBe(503);
        expect(Number(res.json.statusCode)).toBe(503);
        expect(Date.now() - started).toBeLessThan(3 * LIMIT_MS);
        expect(await health()).toBe(503);
      } finally {
        await c.query('ROLLBACK');
        await c.end();
      }
      await pollUntil(
        async () =>
          (await api(app.httpPort, 'PUT', `${registrationPath(key)}/attributes/k`, { value: 'x' })).status === 200
            ? true
            : undefined,
        10_000,
        'PUT 200',
      );
      expect(await health()).toBe(200);
    });
  } else {
    it('answers 503 with Retry-After while another connection holds the write lock, then recovers', async () => {
      const other = new DataSource({ type: 'better-sqlite3', database: sqlitePath(db) });
      await other.initialize();
      await other.query('BEGIN IMMEDIATE');
      await blockedThenRecovered({
        release: async () => {
          await other.query('ROLLBACK');
          await other.destroy();
        },
      });
    });
  }
});
