/**
 * The acceptance with SIPp: its REGISTER scenario (test/fixtures/sipp/register.xml) gets 200
 * listing the binding, over UDP and TCP, and the binding is visible over REST.
 */
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { runSipp, type SippTransport } from '../utils/sipp';
import { api, registrationPath } from '../utils/e2e-helpers';

interface ContactJson {
  uri: string;
  expires: number;
  userAgent: string;
  source: { protocol: string };
}

describe.each(databaseKinds())('SIPp register.xml on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it.each<[SippTransport, string, number]>([
    ['u1', 'udp', 3],
    ['t1', 'tcp', 2],
  ])('sipp -t %s registers every call and REST shows each binding (%s)', async (transport, protocol, calls) => {
    const user = `sipp${protocol}`;
    const port = protocol === 'udp' ? app.sipPorts.udp : app.sipPorts.tcp;
    const result = await runSipp({
      scenario: 'register',
      remote: `127.0.0.1:${port}`,
      transport,
      calls,
      rate: 20,
      vars: { user, domain: 'example.com', expires: '300' },
      timeoutMs: 20_000,
    });
    const diagnostics = `${result.command.join(' ')}\n${result.stderr}\n${result.errors}`;
    expect({ exitCode: result.exitCode, diagnostics }).toEqual({ exitCode: 0, diagnostics });
    expect(result.stats?.successfulCalls).toBe(calls);
    expect(result.stats?.failedCalls).toBe(0);

    const page = await api(app.httpPort, 'GET', '/api/registrations?limit=500');
    const aors = (page.json as { items: { aor: string }[] }).items.map((i) => i.aor).filter((a) => a.includes(user));
    expect(aors).toHaveLength(calls);
    for (const aor of aors) {
      expect(aor).toMatch(new RegExp(`^sip:${user}\\d+@example\\.com$`));
      const res = await api(app.httpPort, 'GET', registrationPath(aor));
      expect(res.status).toBe(200);
      const contacts = (res.json as { contacts: ContactJson[] }).contacts;
      expect(contacts).toHaveLength(1);
      expect(contacts[0].uri).toMatch(new RegExp(`^sip:${user}\\d+@127\\.0\\.0\\.1:\\d+;transport=${protocol}$`, 'i'));
      expect(contacts[0].expires).toBeGreaterThan(290);
      expect(contacts[0].userAgent).toBe('sipp-presence-hub-tests');
      expect(contacts[0].source.protocol).toBe(protocol);
    }
  });
});
