/**
 * Issue 14 acceptance: the browser client our users run, sip.js 0.21 over SIP-over-WebSocket (RFC 7118),
 * registers and subscribes to its own AoR's `reg` state, and sees a second device register.
 */
import { Registerer, Subscriber, UserAgent, type Notification } from 'sip.js';
import WebSocket from 'ws';
import type { RunningApp } from '../../src/app.factory';
import { eventually, openClient, portsOf, uniqueAor } from '../utils/presence-e2e';
import { contactEvents, validReginfo } from '../utils/reginfo-e2e';
import type { SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

// sip.js opens its transport with the global WebSocket, which Node 20 lacks.
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

describe.each(databaseKinds())('sip.js reg Subscriber over WS on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let ua: UserAgent | undefined;
  let phone: SipTestClient | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
  });

  afterAll(async () => {
    await phone?.close();
    await ua?.stop();
    await app.close();
    await db.drop();
  });

  it('a sip.js Subscriber to Event: reg sees a second device register', async () => {
    const aor = uniqueAor('alice');
    const uri = UserAgent.makeURI(aor);
    if (uri === undefined) throw new Error(`makeURI(${aor}) failed`);
    ua = new UserAgent({ uri, transportOptions: { server: `ws://127.0.0.1:${app.httpPort}/sip` }, logLevel: 'error' });
    await ua.start();
    const registerer = new Registerer(ua, { expires: 300 });
    await registerer.register();

    const bodies: string[] = [];
    const sub = new Subscriber(ua, uri, 'reg', { expires: 300 });
    sub.delegate = {
      onNotify: (notification: Notification) => {
        bodies.push(notification.request.body);
        void notification.accept();
      },
    };
    await sub.subscribe();
    const first = validReginfo(await eventually(() => bodies[0], 5000, 'first NOTIFY to the sip.js Subscriber'));
    expect(first).toMatchObject({ version: 0, state: 'full' });
    // sip.js's own registration (it may still be on its way when the SUBSCRIBE is answered).
    const own = await eventually(
      () => bodies.map(validReginfo).find((d) => d.registrations[0]?.contacts.length === 1),
      5000,
      "the sip.js UA's own contact",
    );
    const ownId = own.registrations[0].contacts[0].id;

    phone = await openClient(portsOf(app), 'udp');
    expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
    const second = await eventually(
      () =>
        bodies
          .map(validReginfo)
          .find(
            (d) =>
              d.state === 'partial' &&
              contactEvents(d).some((e) => e.endsWith('/active/created') && !e.startsWith(ownId)),
          ),
      5000,
      'a NOTIFY of the second device',
    );
    expect(second.registrations[0]).toMatchObject({ aor, state: 'active' });
    const versions = bodies.map((b) => validReginfo(b).version);
    expect(versions).toEqual(versions.map((_, i) => i));

    await sub.unsubscribe();
    await registerer.unregister();
  });
});
