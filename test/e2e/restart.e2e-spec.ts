/**
 * Durability (DESIGN.md "Durability and scale contract"): a binding acknowledged with 200 survives
 * `kill -9` of the server, and one that expired while the server was down is gone after the restart.
 * The server runs as a child process (`src/main.ts`) on fixed ports, restarted on the same database.
 */
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { api, pollUntil, registrationPath } from '../utils/e2e-helpers';

interface ContactJson {
  id: string;
  uri: string;
  expires: number;
  expiresAt: string;
  cseq: number;
  callId: string;
}

describe.each(databaseKinds())('registrations across kill -9 on %s', (kind) => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  let client: SipTestClient | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await client?.close();
    await server?.kill('SIGKILL');
    await db.drop();
  });

  async function contactsOf(httpPort: number, aor: string): Promise<ContactJson[] | undefined> {
    const res = await api(httpPort, 'GET', registrationPath(aor));
    if (res.status === 404) return undefined;
    expect(res.status).toBe(200);
    return (res.json as { contacts: ContactJson[] }).contacts;
  }

  it('keeps a long binding and drops one that expired while the server was down', async () => {
    const ports = { sipPort: await freePort(), httpPort: await freePort() };
    const env = { REGISTRAR_MIN_EXPIRES: '1' };
    server = await spawnServer(db, ports, env);
    client = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: ports.sipPort, timerF: 8000 });

    const longAor = 'sip:persist@example.com';
    const shortAor = 'sip:fleeting@example.com';
    const longContact = client.contactUri('persist');
    const longRes: SipTestMessage = await client.register({ aor: longAor, contact: `<${longContact}>`, expires: 3600 });
    expect(longRes.status).toBe(200);
    const shortRes = await client.register({
      aor: shortAor,
      contact: `<${client.contactUri('fleeting')}>`,
      expires: 2,
    });
    expect(shortRes.status).toBe(200);
    const shortExpiresAt = Date.now() + 2000;
    const before = await contactsOf(ports.httpPort, longAor);
    expect(before).toHaveLength(1);

    // The 200s were sent after the commit: nothing is lost by killing the process right away.
    await server.kill('SIGKILL');
    expect(server.child.signalCode).toBe('SIGKILL');

    // Restart only once the short binding's expiry has passed (it expires while the server is down).
    await pollUntil(() => Promise.resolve(Date.now() > shortExpiresAt + 500 ? true : undefined), 5000, 'expiry');
    server = await spawnServer(db, ports, env);

    const after = await contactsOf(ports.httpPort, longAor);
    expect(after).toHaveLength(1);
    expect(after![0]).toMatchObject({
      id: before![0].id,
      uri: longContact,
      callId: before![0].callId,
      cseq: before![0].cseq,
      expiresAt: before![0].expiresAt,
    });
    expect(after![0].expires).toBeGreaterThan(3500);

    expect(await contactsOf(ports.httpPort, shortAor)).toBeUndefined();
    // The start-up sweep removed it from the location table, not only from the view.
    const listed = await pollUntil(
      async () => {
        const page = await api(ports.httpPort, 'GET', '/api/registrations?limit=500');
        const aors = (page.json as { items: { aor: string }[] }).items.map((i) => i.aor);
        return aors.includes(shortAor) ? undefined : aors;
      },
      5000,
      `${shortAor} swept after restart`,
    );
    expect(listed).toContain(longAor);

    // Call-ID/CSeq ordering survived too: a replayed CSeq is refused, the next one refreshes.
    const replay = await client.request({
      method: 'REGISTER',
      uri: 'sip:example.com',
      from: longAor,
      to: longAor,
      callId: before![0].callId,
      cseq: before![0].cseq,
      headers: { Contact: `<${longContact}>`, Expires: 600 },
    });
    expect(replay.status).toBe(500);
    const refresh = await client.register({ aor: longAor, contact: `<${longContact}>`, expires: 1200 });
    expect(refresh.status).toBe(200);
    const refreshed = await contactsOf(ports.httpPort, longAor);
    expect(refreshed).toHaveLength(1);
    expect(refreshed![0].id).toBe(before![0].id);
    expect(refreshed![0].expires).toBeLessThanOrEqual(1200);
  });
});
