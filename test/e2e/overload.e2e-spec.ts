/**
 * Overload (DESIGN.md "Targets"): while saturated, new REGISTER/SUBSCRIBE/PUBLISH get 503 with
 * Retry-After, OPTIONS and in-dialog requests are still served, and service resumes when the load is gone.
 */
import type { RunningApp } from '../../src/app.factory';
import { SipBridge } from '../../src/sip-bridge/sip-bridge.service';
import { randomToken, SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

describe.each(databaseKinds())('overload on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let client: SipTestClient;
  let saturated = false;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
    app.app.get(SipBridge).addOverloadProbe(() => saturated);
    client = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp });
    client.autoAnswer('NOTIFY', 200);
  });

  afterAll(async () => {
    await client.close();
    await app.close();
    await db.drop();
  });

  it('sheds new work with 503 and Retry-After, keeps dialogs and OPTIONS, and recovers', async () => {
    const presentity = `sip:ov-${randomToken(6)}@example.com`;
    const { response, dialog } = await client.subscribe({ uri: presentity, event: 'presence', expires: 600 });
    expect(response.status).toBe(200);

    saturated = true;
    const reg = await client.register({ aor: `sip:ov-${randomToken(6)}@example.com`, expires: 600 });
    expect(reg.status).toBe(503);
    expect(Number(reg.header('retry-after'))).toBeGreaterThan(0);
    const sub = await client.subscribe({ uri: presentity, event: 'presence', expires: 600 });
    expect(sub.response.status).toBe(503);
    const pub = await client.publish({ uri: presentity, event: 'presence', body: undefined, expires: 600 });
    expect(pub.status).toBe(503);
    const options = await client.request({ method: 'OPTIONS', uri: 'sip:example.com' });
    expect(options.status).toBe(200);
    const refresh = await client.inDialog(dialog, 'SUBSCRIBE', { Event: 'presence', Expires: '600' });
    expect(refresh.status).toBe(200);

    saturated = false;
    const again = await client.register({ aor: `sip:ov-${randomToken(6)}@example.com`, expires: 600 });
    expect(again.status).toBe(200);
  });
});
