/**
 * Issue 4, points 3 and 4: PUBLISH (RFC 3903) of PIDF (RFC 3863) over UDP, TCP and WS, and what SIP
 * watchers are told: initial, refresh, modify, remove, expiry, errors, and several publications composed.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { RunningApp } from '../../src/app.factory';
import { pidf, type SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import {
  TRANSPORTS,
  basics,
  expectValidPidf,
  nextNotify,
  openClient,
  portsOf,
  subscriptionState,
  tupleIds,
  uniqueAor,
  type ServerPorts,
} from '../utils/presence-e2e';

/** PA_PUBLISH_MIN_EXPIRES=2: Expires 1 shows 423, Expires 2 shows expiry within the test. */
const ENV = { PA_PUBLISH_MIN_EXPIRES: '2', PA_TIMER_INTERVAL: '1' };

const PIDF_FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'pidf');

describe.each(databaseKinds())('presence PUBLISH on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let ports: ServerPorts;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, ENV);
    ports = portsOf(app);
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  describe.each(TRANSPORTS)('over %s', (transport) => {
    let publisher: SipTestClient;
    let watcher: SipTestClient;

    beforeEach(async () => {
      publisher = await openClient(ports, transport);
      watcher = await openClient(ports, transport);
    });

    afterEach(async () => {
      await publisher.close();
      await watcher.close();
    });

    /** Subscribes the watcher to `aor` and returns its dialog's Call-ID once the first NOTIFY is in. */
    async function watch(aor: string): Promise<{ callId: string; first: SipTestMessage }> {
      const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'presence', expires: 300 });
      expect(response.status).toBe(200);
      const first = await nextNotify(watcher, dialog.callId);
      return { callId: dialog.callId, first };
    }

    function notifyWith(callId: string, text: string): Promise<SipTestMessage> {
      return nextNotify(watcher, callId, 5000, (m) => m.body.includes(text));
    }

    it('initial PUBLISH: 200 with SIP-ETag and Expires, and watchers get the published tuple and note', async () => {
      const aor = uniqueAor('alice');
      const { callId, first } = await watch(aor);
      expect(basics(first.body)).toEqual(['closed']);

      const res = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 120,
        body: pidf(aor, 'open', 'hello from publish', 'pub-tuple'),
      });
      expect(res.status).toBe(200);
      expect(res.header('sip-etag')).toBeTruthy();
      expect(Number(res.header('expires'))).toBe(120);

      const notify = await notifyWith(callId, 'hello from publish');
      expect(subscriptionState(notify).state).toBe('active');
      expect(tupleIds(notify.body)).toEqual(['pub-tuple']);
      expect(basics(notify.body)).toEqual(['open']);
      expectValidPidf(notify.body);
    });

    it('refresh (no body, SIP-If-Match): 200 with a new SIP-ETag; the old one is no longer valid', async () => {
      const aor = uniqueAor('alice');
      const initial = await publisher.publish({ uri: aor, event: 'presence', expires: 60, body: pidf(aor, 'open') });
      expect(initial.status).toBe(200);
      const etag = initial.header('sip-etag')!;

      const refresh = await publisher.publish({ uri: aor, event: 'presence', expires: 90, ifMatch: etag });
      expect(refresh.status).toBe(200);
      const newTag = refresh.header('sip-etag');
      expect(newTag).toBeTruthy();
      expect(newTag).not.toBe(etag);
      expect(Number(refresh.header('expires'))).toBe(90);

      const stale = await publisher.publish({ uri: aor, event: 'presence', expires: 90, ifMatch: etag });
      expect(stale.status).toBe(412);
      const again = await publisher.publish({ uri: aor, event: 'presence', expires: 90, ifMatch: newTag });
      expect(again.status).toBe(200);
    });

    it('modify (body and SIP-If-Match): a new SIP-ETag and watchers notified of the new state', async () => {
      const aor = uniqueAor('alice');
      const { callId } = await watch(aor);
      const initial = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 120,
        body: pidf(aor, 'open', 'at my desk'),
      });
      expect(initial.status).toBe(200);
      await notifyWith(callId, 'at my desk');

      const modify = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 120,
        ifMatch: initial.header('sip-etag'),
        body: pidf(aor, 'closed', 'gone for lunch'),
      });
      expect(modify.status).toBe(200);
      expect(modify.header('sip-etag')).toBeTruthy();
      expect(modify.header('sip-etag')).not.toBe(initial.header('sip-etag'));

      const notify = await notifyWith(callId, 'gone for lunch');
      expect(basics(notify.body)).toEqual(['closed']);
      expect(notify.body).not.toContain('at my desk');
      expectValidPidf(notify.body);
    });

    it('remove (Expires 0 and SIP-If-Match): watchers are told closed and the ETag is gone', async () => {
      const aor = uniqueAor('alice');
      const { callId } = await watch(aor);
      const initial = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 120,
        body: pidf(aor, 'open', 'soon removed'),
      });
      await notifyWith(callId, 'soon removed');

      const remove = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 0,
        ifMatch: initial.header('sip-etag'),
      });
      expect(remove.status).toBe(200);
      expect(Number(remove.header('expires'))).toBe(0);

      const notify = await nextNotify(watcher, callId);
      expect(basics(notify.body)).toEqual(['closed']);
      expect(notify.body).not.toContain('soon removed');
      expectValidPidf(notify.body);

      const after = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 60,
        ifMatch: initial.header('sip-etag'),
      });
      expect(after.status).toBe(412);
    });

    it('answers 412 for an unknown SIP-If-Match', async () => {
      const aor = uniqueAor('alice');
      const res = await publisher.publish({ uri: aor, event: 'presence', expires: 60, ifMatch: 'no-such-etag' });
      expect(res.status).toBe(412);
      const modify = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 60,
        ifMatch: 'no-such-etag',
        body: pidf(aor, 'open'),
      });
      expect(modify.status).toBe(412);
    });

    it('answers 423 with Min-Expires for a too short publication', async () => {
      const aor = uniqueAor('alice');
      const res = await publisher.publish({ uri: aor, event: 'presence', expires: 1, body: pidf(aor, 'open') });
      expect(res.status).toBe(423);
      expect(res.header('min-expires')).toBe('2');
    });

    it('answers 400 to malformed XML and 415 with Accept to a type it does not take', async () => {
      const aor = uniqueAor('alice');
      const bad = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 60,
        body: readFileSync(path.join(PIDF_FIXTURES, 'bad-xml.xml'), 'utf8'),
      });
      expect(bad.status).toBe(400);

      const plain = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 60,
        body: 'I am here',
        contentType: 'text/plain',
      });
      expect(plain.status).toBe(415);
      expect(plain.headerValues('accept')).toContain('application/pidf+xml');
    });

    it('expiry removes the publication and notifies watchers', async () => {
      const aor = uniqueAor('alice');
      const { callId } = await watch(aor);
      const res = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 2,
        body: pidf(aor, 'open', 'short lived'),
      });
      expect(res.status).toBe(200);
      expect(Number(res.header('expires'))).toBe(2);
      const open = await notifyWith(callId, 'short lived');
      const openAt = open.receivedAt ?? Date.now();

      const closed = await nextNotify(watcher, callId, 5000, (m) => !m.body.includes('short lived'));
      expect(basics(closed.body)).toEqual(['closed']);
      expect((closed.receivedAt ?? Date.now()) - openAt).toBeGreaterThanOrEqual(1000);
      const refresh = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 60,
        ifMatch: res.header('sip-etag'),
      });
      expect(refresh.status).toBe(412);
    });

    it('composes two publications of one presentity, and removing one leaves the other', async () => {
      const aor = uniqueAor('alice');
      const { callId } = await watch(aor);
      const phone = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 120,
        body: pidf(aor, 'open', 'on the phone', 'phone'),
      });
      expect(phone.status).toBe(200);
      await notifyWith(callId, 'on the phone');
      const laptop = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 120,
        body: pidf(aor, 'closed', 'laptop asleep', 'laptop'),
      });
      expect(laptop.status).toBe(200);
      expect(laptop.header('sip-etag')).not.toBe(phone.header('sip-etag'));

      const both = await notifyWith(callId, 'laptop asleep');
      expect([...tupleIds(both.body)].sort()).toEqual(['laptop', 'phone']);
      expect(both.body).toContain('on the phone');
      expectValidPidf(both.body);

      const remove = await publisher.publish({
        uri: aor,
        event: 'presence',
        expires: 0,
        ifMatch: phone.header('sip-etag'),
      });
      expect(remove.status).toBe(200);
      const left = await nextNotify(watcher, callId, 5000, (m) => !m.body.includes('on the phone'));
      expect(tupleIds(left.body)).toEqual(['laptop']);
      expect(left.body).toContain('laptop asleep');
      expectValidPidf(left.body);
    });
  });
});
