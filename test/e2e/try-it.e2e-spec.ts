/**
 * The README's "Try it" on a server with its default settings, where authentication is on: the first start
 * prints an admin key; REST needs it; SIP requests of unknown users are challenged and refused; users created
 * with the key register, publish and watch with SIPp's digest credentials; a user key sees its own AoR only.
 * Only the ports, the database and the algorithm order for SIPp (it answers the first challenge, MD5 only)
 * differ from `npm start`.
 */
import { api, registrationPath } from '../utils/e2e-helpers';
import { runSipp, type SippResult } from '../utils/sipp';
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';

const PRINTED = /created one \(shown only now, keep it\): (ph_[A-Za-z0-9_-]{43})/;
const DOMAIN = { domain: 'example.com', expires: '600' };

function expectCallsPassed(result: SippResult, calls: number): void {
  const diagnostics = `${result.command.join(' ')}\n${result.stderr}\n${result.errors}`;
  expect({ exitCode: result.exitCode, diagnostics }).toEqual({ exitCode: 0, diagnostics });
  expect(result.stats?.successfulCalls).toBe(calls);
}

// On SQLite only, as `npm start` runs: the same steps on every database are in the sip-digest, sipp-digest and
// access-keys suites; this one is about the defaults of a new install.
describe('Try it, on the default settings (auth on)', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let admin: string;
  let sip: string;
  let auth: Record<string, string>;

  const rest = (method: string, path: string, body?: unknown, key = admin) =>
    api(server.httpPort, method, path, body, { authorization: `Bearer ${key}` });

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const ports = { sipPort: await freePort(), httpPort: await freePort() };
    // AUTH_ENABLED: undefined drops the test default, so the setting's own default applies.
    server = await spawnServer(db, ports, { AUTH_ENABLED: undefined, AUTH_ALGORITHMS: 'MD5,SHA-256' });
    const printed = PRINTED.exec(server.output());
    if (printed === null) throw new Error(`no admin key in the start log:\n${server.output()}`);
    admin = printed[1];
    auth = { authorization: `Bearer ${admin}` };
    sip = `127.0.0.1:${ports.sipPort}`;
    for (const user of ['alice', 'bob', 'carol']) {
      const res = await rest('POST', '/api/subscribers', {
        username: user,
        domain: 'example.com',
        password: `${user}-pw`,
      });
      expect(res.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    await server?.kill();
    await db?.drop();
  });

  it('refuses REST without the printed key and accepts it', async () => {
    const without = await api(server.httpPort, 'GET', '/api/registrations');
    expect(without.status).toBe(401);
    expect(without.json.field).toBe('Authorization');
    expect(server.output()).toMatch(/no SIP user exists: REGISTER, PUBLISH, SUBSCRIBE from anyone but/);
    expect((await api(server.httpPort, 'GET', '/api/registrations', undefined, auth)).status).toBe(200);
  });

  it('refuses a REGISTER without credentials and registers with them', async () => {
    const open = await runSipp({ scenario: 'register', remote: sip, vars: { user: 'alice', ...DOMAIN } });
    expect(open.exitCode).not.toBe(0);
    expect((await rest('GET', registrationPath('sip:alice1@example.com'))).status).toBe(404);

    const result = await runSipp({
      scenario: 'register-auth',
      remote: sip,
      vars: { user: 'alice', ...DOMAIN },
      extraArgs: ['-au', 'alice', '-ap', 'alice-pw'],
    });
    expectCallsPassed(result, 1);
    const reg = await rest('GET', registrationPath('sip:alice@example.com'));
    expect(reg.status).toBe(200);
    expect((reg.json.contacts as { userAgent: string }[])[0].userAgent).toBe('sipp-presence-hub-tests');
  });

  it('publishes and watches presence with credentials, and not with a wrong password', async () => {
    const publish = await runSipp({
      scenario: 'publish',
      remote: sip,
      vars: { user: 'bob', presentity: 'bob', note: 'In a meeting', ...DOMAIN },
      extraArgs: ['-au', 'bob', '-ap', 'bob-pw'],
    });
    expectCallsPassed(publish, 1);
    const watch = await runSipp({
      scenario: 'subscribe',
      remote: sip,
      vars: { user: 'carol', presentity: 'bob', ...DOMAIN },
      extraArgs: ['-au', 'carol', '-ap', 'carol-pw'],
    });
    expectCallsPassed(watch, 1);
    const state = await rest('GET', '/api/presentities/sip:bob@example.com/presence');
    expect(state.json).toMatchObject({ basic: 'open', note: 'In a meeting 1' });

    const wrong = await runSipp({
      scenario: 'publish',
      remote: sip,
      vars: { user: 'bob', presentity: 'bob', note: 'Forged', ...DOMAIN },
      extraArgs: ['-au', 'bob', '-ap', 'not-the-password'],
      recvTimeoutMs: 3000,
    });
    expect(wrong.exitCode).not.toBe(0);
    expect((await rest('GET', '/api/presentities/sip:bob@example.com/presence')).json.note).toBe('In a meeting 1');
    expect(server.output()).toMatch(/auth failure: src=127\.0\.0\.1 port=\d+ user=bob@example\.com method=PUBLISH/);
  });

  it("gives a user key its own AoR and refuses another's", async () => {
    const created = await rest('POST', '/api/keys', { role: 'user', aor: 'sip:alice@example.com', label: 'alice' });
    expect(created.status).toBe(201);
    const alice = created.json.key as string;
    expect((await rest('GET', registrationPath('sip:alice@example.com'), undefined, alice)).status).toBe(200);
    const other = await rest('GET', registrationPath('sip:bob@example.com'), undefined, alice);
    expect(other.status).toBe(403);
    expect(other.json.field).toBe('aor');
  });
});
