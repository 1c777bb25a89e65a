/**
 * Bindings and their connections (RFC 5626 §5.3, RFC 7118 §5): when a TCP or WebSocket connection closes,
 * the bindings only it can reach — outbound flows with reg-id, and WebSocket contacts — are removed as
 * `deactivated`; a plain TCP binding stays, since its Contact can be connected to anew.
 */
import type { RunningApp } from '../../src/app.factory';
import { api, pollUntil, registrationPath } from '../utils/e2e-helpers';
import { randomToken, SipTestClient, type SipTestTransport } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

async function open(app: RunningApp, transport: SipTestTransport): Promise<SipTestClient> {
  const port = transport === 'ws' ? app.httpPort : app.sipPorts[transport];
  return SipTestClient.open({ transport, host: '127.0.0.1', port, path: '/sip' });
}

async function contactCount(app: RunningApp, aor: string): Promise<number> {
  const res = await api(app.httpPort, 'GET', registrationPath(aor));
  if (res.status === 404) return 0;
  return (res.json as { contacts: unknown[] }).contacts.length;
}

describe.each(databaseKinds())('bindings and connections on %s', (kind) => {
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

  it('removes a WebSocket binding when its socket closes', async () => {
    const aor = `sip:ws-${randomToken(6)}@example.com`;
    const c = await open(app, 'ws');
    const res = await c.register({ aor, expires: 600 });
    expect(res.status).toBe(200);
    expect(await contactCount(app, aor)).toBe(1);
    await c.close();
    await pollUntil(async () => ((await contactCount(app, aor)) === 0 ? true : undefined), 5000, 'WS binding removed');
  });

  it('removes a TCP outbound flow (reg-id) when its connection closes, and keeps a plain TCP binding', async () => {
    const flowAor = `sip:flow-${randomToken(6)}@example.com`;
    const plainAor = `sip:plain-${randomToken(6)}@example.com`;
    const c = await open(app, 'tcp');
    const instance = `"<urn:uuid:${randomToken(8)}-0000-4000-8000-000000000001>"`;
    const flow = await c.register({
      aor: flowAor,
      contact: `<sip:flow@${c.localAddress}:${c.localPort};transport=tcp>;+sip.instance=${instance};reg-id=1`,
      expires: 600,
      headers: { Supported: 'outbound, path' },
    });
    expect(flow.status).toBe(200);
    expect(flow.header('require')).toBe('outbound');
    expect((await c.register({ aor: plainAor, expires: 600 })).status).toBe(200);
    await c.close();
    await pollUntil(
      async () => ((await contactCount(app, flowAor)) === 0 ? true : undefined),
      5000,
      'outbound flow removed',
    );
    expect(await contactCount(app, plainAor)).toBe(1);
  });
});
