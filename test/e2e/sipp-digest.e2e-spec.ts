/**
 * SIPp answering the server's digest challenge with `[authentication]` (test/fixtures/sipp/register-auth.xml)
 * over UDP: every call is challenged with 401 and registered with its credentials. SIPp 3.6 answers only the
 * first challenge of a response and only with MD5 ("createAuthHeader: authentication must use MD5"), so the
 * server offers MD5 first here (auth.algorithms), as a deployment with such clients would.
 */
import type { RunningApp } from '../../src/app.factory';
import { adminApi, createUser } from '../utils/digest-e2e';
import { registrationPath } from '../utils/e2e-helpers';
import { runSipp } from '../utils/sipp';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

describe.each(databaseKinds())('SIPp register-auth.xml over UDP on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, { AUTH_ENABLED: 'true', AUTH_ALGORITHMS: 'MD5,SHA-256' });
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('registers every call after answering the 401 with [authentication]', async () => {
    const calls = 3;
    await createUser(app, 'sippauth', 'example.com', 'sipp-secret');
    const result = await runSipp({
      scenario: 'register-auth',
      remote: `127.0.0.1:${app.sipPorts.udp}`,
      transport: 'u1',
      calls,
      rate: 20,
      vars: { user: 'sippauth', domain: 'example.com', expires: '300' },
      extraArgs: ['-au', 'sippauth', '-ap', 'sipp-secret'],
      timeoutMs: 20_000,
    });
    const diagnostics = `${result.command.join(' ')}\n${result.stderr}\n${result.errors}`;
    expect({ exitCode: result.exitCode, diagnostics }).toEqual({ exitCode: 0, diagnostics });
    expect(result.stats?.successfulCalls).toBe(calls);
    const reg = await adminApi(app, 'GET', registrationPath('sip:sippauth@example.com'));
    expect(reg.status).toBe(200);
    expect((reg.json as { contacts: unknown[] }).contacts).toHaveLength(calls);
  });

  it('fails the call with a wrong password: the second REGISTER is challenged again', async () => {
    await createUser(app, 'sippbad', 'example.com', 'right');
    const result = await runSipp({
      scenario: 'register-auth',
      remote: `127.0.0.1:${app.sipPorts.udp}`,
      transport: 'u1',
      calls: 1,
      vars: { user: 'sippbad', domain: 'example.com', expires: '300' },
      extraArgs: ['-au', 'sippbad', '-ap', 'wrong'],
      timeoutMs: 20_000,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stats?.failedCalls).toBe(1);
    expect((await adminApi(app, 'GET', registrationPath('sip:sippbad@example.com'))).status).toBe(404);
  });
});
