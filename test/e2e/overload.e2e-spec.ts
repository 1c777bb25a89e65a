/**
 * Overload (DESIGN.md "Targets"): while saturated, new REGISTER/SUBSCRIBE/PUBLISH get 503 with
 * Retry-After, OPTIONS and in-dialog requests are still served, and service resumes when the load is gone.
 */
import type { RunningApp } from '../../src/app.factory';
import { SipBridge } from '../../src/sip-bridge/sip-bridge.service';
import { pidf, randomToken, SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
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

describe.each(databaseKinds())('flood on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let client: SipTestClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // A small in-flight limit makes a burst exceed it on any machine, however fast.
    app = await startTestApp(db, { SIP_MAX_PENDING_REQUESTS: '4' });
    client = await SipTestClient.open({
      transport: 'udp',
      host: '127.0.0.1',
      port: app.sipPorts.udp,
      retransmit: false,
    });
  });

  afterAll(async () => {
    await client.close();
    await app.close();
    await db.drop();
  });

  it('answers a burst with 2xx or 503 and Retry-After, serves OPTIONS throughout, then serves again', async () => {
    const run = randomToken(4);
    const floods: Promise<SipTestMessage>[] = [];
    const options: Promise<SipTestMessage>[] = [];
    for (let i = 0; i < 300; i++) {
      floods.push(
        i % 2 === 0
          ? client.register({ aor: `sip:fl-${run}-${i}@example.com`, expires: 600, timeoutMs: 30_000 })
          : client.publish({
              uri: `sip:fl-${run}-${i}@example.com`,
              event: 'presence',
              body: pidf(`sip:fl-${run}-${i}@example.com`),
              expires: 600,
              timeoutMs: 30_000,
            }),
      );
      if (i % 30 === 0) options.push(client.request({ method: 'OPTIONS', uri: 'sip:example.com', timeoutMs: 30_000 }));
    }
    const answers = await Promise.all(floods);
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const shed = answers.filter((r) => r.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) expect(Number(r.header('retry-after'))).toBeGreaterThan(0);
    expect((await Promise.all(options)).map((r) => r.status)).toEqual(options.map(() => 200));

    const again = await client.register({ aor: `sip:fl-${run}-after@example.com`, expires: 600 });
    expect(again.status).toBe(200);
  });
});
