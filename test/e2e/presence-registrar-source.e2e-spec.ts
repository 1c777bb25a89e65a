/**
 * Issue 4, point 4: the `pa` registrar source. Without a publication, a presentity with a live binding in
 * the location service is open and one without is closed; REGISTER and unregister notify its watchers.
 */
import type { RunningApp } from '../../src/app.factory';
import { pidf, type SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import {
  TRANSPORTS,
  basics,
  expectValidPidf,
  nextNotify,
  notifyArrives,
  openClient,
  portsOf,
  uniqueAor,
  type ServerPorts,
} from '../utils/presence-e2e';

describe.each(databaseKinds())('presence registrar source on %s', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await db.drop();
  });

  describe('enabled (default)', () => {
    let app: RunningApp;
    let ports: ServerPorts;

    beforeAll(async () => {
      app = await startTestApp(db);
      ports = portsOf(app);
    });

    afterAll(async () => {
      await app.close();
    });

    describe.each(TRANSPORTS)('over %s', (transport) => {
      let phone: SipTestClient;
      let watcher: SipTestClient;

      beforeEach(async () => {
        phone = await openClient(ports, transport);
        watcher = await openClient(ports, transport);
      });

      afterEach(async () => {
        await phone.close();
        await watcher.close();
      });

      it('is closed without binding, open after REGISTER, closed again after unregister', async () => {
        const aor = uniqueAor('carol');
        const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'presence', expires: 300 });
        expect(response.status).toBe(200);
        const first = await nextNotify(watcher, dialog.callId);
        expect(basics(first.body)).toEqual(['closed']);
        expectValidPidf(first.body);

        const reg = await phone.register({ aor, expires: 300 });
        expect(reg.status).toBe(200);
        const open = await nextNotify(watcher, dialog.callId);
        expect(basics(open.body)).toEqual(['open']);
        expect(open.body).toContain(phone.contactHost);
        expectValidPidf(open.body);

        const unreg = await phone.register({ aor, expires: 0 });
        expect(unreg.status).toBe(200);
        const closed = await nextNotify(watcher, dialog.callId);
        expect(basics(closed.body)).toEqual(['closed']);
        expectValidPidf(closed.body);
      });

      it('sends no NOTIFY for a REGISTER refresh that changes nothing in the document', async () => {
        const aor = uniqueAor('carol');
        const { dialog } = await watcher.subscribe({ uri: aor, event: 'presence', expires: 300 });
        expect(basics((await nextNotify(watcher, dialog.callId)).body)).toEqual(['closed']);
        expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
        expect(basics((await nextNotify(watcher, dialog.callId)).body)).toEqual(['open']);

        expect((await phone.register({ aor, expires: 600 })).status).toBe(200);
        expect(await notifyArrives(watcher, dialog.callId, 700)).toBe(false);

        expect((await phone.register({ aor, expires: 0 })).status).toBe(200);
        expect(basics((await nextNotify(watcher, dialog.callId)).body)).toEqual(['closed']);
      });

      it('lets a publication take precedence over a binding, and falls back to it when removed', async () => {
        const aor = uniqueAor('carol');
        expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
        const { dialog } = await watcher.subscribe({ uri: aor, event: 'presence', expires: 300 });
        const first = await nextNotify(watcher, dialog.callId);
        expect(basics(first.body)).toEqual(['open']);

        const pub = await phone.publish({
          uri: aor,
          event: 'presence',
          expires: 120,
          body: pidf(aor, 'closed', 'dnd'),
        });
        expect(pub.status).toBe(200);
        const published = await nextNotify(watcher, dialog.callId, 5000, (m) => m.body.includes('dnd'));
        expect(basics(published.body)).toEqual(['closed']);

        const remove = await phone.publish({
          uri: aor,
          event: 'presence',
          expires: 0,
          ifMatch: pub.header('sip-etag'),
        });
        expect(remove.status).toBe(200);
        const fallback = await nextNotify(watcher, dialog.callId, 5000, (m) => !m.body.includes('dnd'));
        expect(basics(fallback.body)).toEqual(['open']);
        expect((await phone.register({ aor, expires: 0 })).status).toBe(200);
      });
    });
  });

  describe('disabled (PA_REGISTRAR_SOURCE=false)', () => {
    let app: RunningApp;
    let ports: ServerPorts;

    beforeAll(async () => {
      app = await startTestApp(db, { PA_REGISTRAR_SOURCE: 'false' });
      ports = portsOf(app);
    });

    afterAll(async () => {
      await app.close();
    });

    it('keeps a registered presentity closed and sends no NOTIFY for REGISTER', async () => {
      const phone = await openClient(ports, 'udp');
      const watcher = await openClient(ports, 'udp');
      try {
        const aor = uniqueAor('dave');
        const { dialog } = await watcher.subscribe({ uri: aor, event: 'presence', expires: 300 });
        expect(basics((await nextNotify(watcher, dialog.callId)).body)).toEqual(['closed']);
        expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
        expect(await notifyArrives(watcher, dialog.callId, 700)).toBe(false);

        const other = await watcher.subscribe({ uri: aor, event: 'presence', expires: 300 });
        expect(basics((await nextNotify(watcher, other.dialog.callId)).body)).toEqual(['closed']);
      } finally {
        await phone.close();
        await watcher.close();
      }
    });
  });
});
