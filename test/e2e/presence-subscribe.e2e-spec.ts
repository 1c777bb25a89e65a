/**
 * Issue 4, point 2: SUBSCRIBE/NOTIFY for the `presence` package (RFC 6665, RFC 3856) over UDP, TCP and WS,
 * against the whole app on real sockets and a real database.
 */
import type { RunningApp } from '../../src/app.factory';
import { pidf, type SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import {
  TRANSPORTS,
  eventually,
  expectValidPidf,
  listedSubscriptions,
  nextNotify,
  notifyArrives,
  openClient,
  portsOf,
  subscriptionState,
  tupleIds,
  uniqueAor,
  type ServerPorts,
} from '../utils/presence-e2e';

/**
 * PA_MIN_EXPIRES=2 lets one app show both 423 (Expires 1) and expiry (Expires 2); SIP_T1=50 makes Timer F
 * 3.2 s; default and maximum are set apart so that each is visible in the granted Expires.
 */
const ENV = {
  PA_MIN_EXPIRES: '2',
  PA_DEFAULT_EXPIRES: '300',
  PA_MAX_EXPIRES: '600',
  PA_TIMER_INTERVAL: '1',
  SIP_T1: '50',
};

describe.each(databaseKinds())('presence SUBSCRIBE/NOTIFY on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let ports: ServerPorts;
  let publisher: SipTestClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, ENV);
    ports = portsOf(app);
    publisher = await openClient(ports, 'udp');
  });

  afterAll(async () => {
    await publisher.close();
    await app.close();
    await db.drop();
  });

  async function publishOpen(aor: string, note: string): Promise<void> {
    const res = await publisher.publish({ uri: aor, event: 'presence', expires: 600, body: pidf(aor, 'open', note) });
    expect(res.status).toBe(200);
  }

  describe.each(TRANSPORTS)('over %s', (transport) => {
    let client: SipTestClient;

    beforeEach(async () => {
      client = await openClient(ports, transport);
    });

    afterEach(async () => {
      await client.close();
    });

    it('answers 200 with a To tag and the granted Expires, then NOTIFY active with a valid PIDF body', async () => {
      const aor = uniqueAor();
      const { response, dialog } = await client.subscribe({ uri: aor, event: 'presence', expires: 120 });
      expect(response.status).toBe(200);
      expect(response.toTag).toBeTruthy();
      expect(Number(response.header('expires'))).toBe(120);
      expect(response.header('contact')).toBeDefined();

      const notify = await nextNotify(client, dialog.callId);
      expect(notify.fromTag).toBe(response.toTag);
      expect(notify.toTag).toBe(dialog.fromTag);
      expect(notify.header('event')).toBe('presence');
      const state = subscriptionState(notify);
      expect(state.state).toBe('active');
      expect(state.expires).toBeGreaterThan(0);
      expect(state.expires).toBeLessThanOrEqual(120);
      expect(notify.header('content-type')).toBe('application/pidf+xml');
      expectValidPidf(notify.body);
      expect(notify.body).toContain(`entity="${aor}"`);
    });

    it('echoes the Event id parameter and sends NOTIFYs to the Contact of the SUBSCRIBE', async () => {
      const { response, dialog } = await client.subscribe({
        uri: uniqueAor(),
        event: 'presence;id=abc123',
        expires: 60,
      });
      expect(response.status).toBe(200);
      const notify = await nextNotify(client, dialog.callId);
      expect(notify.header('event')?.replace(/\s/g, '')).toBe('presence;id=abc123');
      expect(notify.uri).toBe(client.contactUri());
      expect(notify.header('contact')).toBeDefined();
    });

    it('grants the package default when Expires is absent and caps it at PA_MAX_EXPIRES', async () => {
      const absent = await client.subscribe({ uri: uniqueAor(), event: 'presence' });
      expect(absent.response.status).toBe(200);
      expect(Number(absent.response.header('expires'))).toBe(300);
      const first = await nextNotify(client, absent.dialog.callId);
      expect(subscriptionState(first).expires).toBeLessThanOrEqual(300);

      const long = await client.subscribe({ uri: uniqueAor(), event: 'presence', expires: 3600 });
      expect(long.response.status).toBe(200);
      expect(Number(long.response.header('expires'))).toBe(600);
      const notify = await nextNotify(client, long.dialog.callId);
      expect(subscriptionState(notify).expires).toBeLessThanOrEqual(600);
    });

    it('refreshes in the dialog with 200 and a NOTIFY, and ends with Expires 0 and NOTIFY terminated', async () => {
      const aor = uniqueAor();
      const { response, dialog } = await client.subscribe({ uri: aor, event: 'presence', expires: 60 });
      expect(response.status).toBe(200);
      await nextNotify(client, dialog.callId);

      const refresh = await client.inDialog(dialog, 'SUBSCRIBE', { Event: 'presence', Expires: 200 });
      expect(refresh.status).toBe(200);
      expect(Number(refresh.header('expires'))).toBe(200);
      const refreshed = await nextNotify(client, dialog.callId);
      const state = subscriptionState(refreshed);
      expect(state.state).toBe('active');
      expect(state.expires).toBeGreaterThan(60);
      expect(state.expires).toBeLessThanOrEqual(200);

      const end = await client.inDialog(dialog, 'SUBSCRIBE', { Event: 'presence', Expires: 0 });
      expect(end.status).toBe(200);
      const final = await nextNotify(client, dialog.callId);
      expect(subscriptionState(final).state).toBe('terminated');

      // The subscription is gone: a later PUBLISH reaches nobody, a refresh gets 481.
      await publishOpen(aor, 'after unsubscribe');
      expect(await notifyArrives(client, dialog.callId, 700)).toBe(false);
      const again = await client.inDialog(dialog, 'SUBSCRIBE', { Event: 'presence', Expires: 60 });
      expect(again.status).toBe(481);
    });

    it('ends an expired subscription with NOTIFY terminated;reason=timeout', async () => {
      const { response, dialog } = await client.subscribe({ uri: uniqueAor(), event: 'presence', expires: 2 });
      expect(response.status).toBe(200);
      expect(Number(response.header('expires'))).toBe(2);
      const first = await nextNotify(client, dialog.callId);
      const subscribedAt = first.receivedAt ?? Date.now();
      const final = await nextNotify(client, dialog.callId, 4000);
      const state = subscriptionState(final);
      expect(state.state).toBe('terminated');
      expect(state.reason).toBe('timeout');
      expect((final.receivedAt ?? Date.now()) - subscribedAt).toBeGreaterThanOrEqual(1000);
    });

    it('answers 489 with Allow-Events for an unknown package and for a missing Event header', async () => {
      const unknown = await client.subscribe({ uri: uniqueAor(), event: 'no-such-package', expires: 60 });
      expect(unknown.response.status).toBe(489);
      expect(unknown.response.headerValues('allow-events')).toContain('presence');

      const missing = await client.request({
        method: 'SUBSCRIBE',
        uri: uniqueAor(),
        headers: { Expires: 60 },
      });
      expect(missing.status).toBe(489);
      expect(missing.headerValues('allow-events')).toContain('presence');
    });

    it('answers 423 with Min-Expires for a too short subscription', async () => {
      const { response } = await client.subscribe({ uri: uniqueAor(), event: 'presence', expires: 1 });
      expect(response.status).toBe(423);
      expect(response.header('min-expires')).toBe('2');
    });

    it('answers 481 to an in-dialog SUBSCRIBE with an unknown To tag', async () => {
      const { response, dialog } = await client.subscribe({ uri: uniqueAor(), event: 'presence', expires: 60 });
      expect(response.status).toBe(200);
      await nextNotify(client, dialog.callId);
      const res = await client.inDialog({ ...dialog, toTag: 'not-our-tag' }, 'SUBSCRIBE', {
        Event: 'presence',
        Expires: 60,
      });
      expect(res.status).toBe(481);
    });

    it('sends NOTIFYs with strictly increasing CSeq as the presentity changes', async () => {
      const aor = uniqueAor();
      const { dialog } = await client.subscribe({ uri: aor, event: 'presence', expires: 120 });
      const seen: SipTestMessage[] = [await nextNotify(client, dialog.callId)];
      for (const note of ['one', 'two', 'three']) {
        await publishOpen(aor, note);
        seen.push(await nextNotify(client, dialog.callId, 5000, (m) => m.body.includes(note)));
      }
      const cseqs = seen.map((m) => m.cseq?.seq ?? -1);
      for (let i = 1; i < cseqs.length; i++) expect(cseqs[i]).toBeGreaterThan(cseqs[i - 1]);
      for (const m of seen) {
        expect(subscriptionState(m).state).toBe('active');
        expect(subscriptionState(m).expires).toBeLessThanOrEqual(120);
      }
      expect(new Set(seen.map((m) => m.fromTag)).size).toBe(1);
    });

    it('keeps CSeq increasing through a burst of changes and ends on the latest state', async () => {
      const aor = uniqueAor();
      const { dialog } = await client.subscribe({ uri: aor, event: 'presence', expires: 120 });
      await nextNotify(client, dialog.callId);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          publisher
            .publish({ uri: aor, event: 'presence', expires: 600, body: pidf(aor, 'open', `burst ${i}`, `t${i}`) })
            .then((res) => {
              expect(res.status).toBe(200);
            }),
        ),
      );
      // Every publication is live, so the state after the burst holds all ten tuples.
      const last = await nextNotify(
        client,
        dialog.callId,
        5000,
        (m) => m.body.includes('burst 0') && m.body.includes('burst 9'),
      );
      const notifies = client.received.filter(
        (m) => m.method === 'NOTIFY' && m.callId === dialog.callId && !m.retransmission,
      );
      const cseqs = notifies.map((m) => m.cseq?.seq ?? -1);
      for (let i = 1; i < cseqs.length; i++) expect(cseqs[i]).toBeGreaterThan(cseqs[i - 1]);
      expect(last.cseq?.seq).toBeGreaterThan(cseqs[0]);
      expect(tupleIds(notifies[notifies.length - 1].body).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `t${i}`).sort(),
      );
    });

    it('ends the subscription when a NOTIFY is answered 481', async () => {
      const aor = uniqueAor();
      let refuse = false;
      client.autoAnswer('NOTIFY', 200, () => (refuse ? 481 : 200));
      const { dialog } = await client.subscribe({ uri: aor, event: 'presence', expires: 120 });
      await nextNotify(client, dialog.callId);

      refuse = true;
      await publishOpen(aor, 'refused');
      const refused = await nextNotify(client, dialog.callId, 5000, (m) => m.body.includes('refused'));
      expect(refused.method).toBe('NOTIFY');
      refuse = false;

      // No NOTIFY follows a later change, and the dialog is unknown to the server.
      await publishOpen(aor, 'after 481');
      expect(await notifyArrives(client, dialog.callId, 700)).toBe(false);
      const listed = await listedSubscriptions(ports.http, aor);
      if (listed !== undefined) expect(listed).toHaveLength(0);
      const refresh = await client.inDialog(dialog, 'SUBSCRIBE', { Event: 'presence', Expires: 60 });
      expect(refresh.status).toBe(481);
    });

    it('honours Record-Route: the 200 echoes it and NOTIFYs carry the route set as Route', async () => {
      const proxy =
        transport === 'udp'
          ? `sip:127.0.0.1:${client.localPort};lr`
          : `sip:${client.contactHost};transport=${transport};lr`;
      const recordRoute = [`<${proxy}>`, '<sip:p2.example.com;lr>'];
      const { response, dialog } = await client.subscribe({
        uri: uniqueAor(),
        event: 'presence',
        expires: 60,
        headers: { 'Record-Route': recordRoute },
      });
      expect(response.status).toBe(200);
      expect(response.headerValues('record-route')).toEqual(recordRoute);
      const notify = await nextNotify(client, dialog.callId);
      expect(notify.headerValues('route')).toEqual(recordRoute);
      // The Request-URI is the remote target (our Contact), not the first route (loose routing, RFC 3261 §12.2.1.1).
      expect(notify.uri).toContain(client.contactHost);
    });
  });

  describe.each(['tcp', 'ws'] as const)('connection reuse over %s', (transport) => {
    it('sends NOTIFYs over the watcher connection even when its Contact host is .invalid', async () => {
      const client = await openClient(ports, transport);
      try {
        const aor = uniqueAor();
        const contact = `<sip:watcher@${transport}-watcher.invalid;transport=${transport}>`;
        const { response, dialog } = await client.subscribe({
          uri: aor,
          event: 'presence',
          expires: 120,
          headers: { Contact: contact },
        });
        expect(response.status).toBe(200);
        const first = await nextNotify(client, dialog.callId);
        expect(first.uri).toContain('.invalid');
        await publishOpen(aor, `over ${transport}`);
        const second = await nextNotify(client, dialog.callId, 5000, (m) => m.body.includes(`over ${transport}`));
        expect(subscriptionState(second).state).toBe('active');
      } finally {
        await client.close();
      }
    });

    it('ends the subscription when a NOTIFY cannot reach a watcher whose connection is gone', async () => {
      const client = await openClient(ports, transport);
      const aor = uniqueAor();
      const { response, dialog } = await client.subscribe({ uri: aor, event: 'presence', expires: 120 });
      expect(response.status).toBe(200);
      await nextNotify(client, dialog.callId);
      expect(await listedSubscriptions(ports.http, aor)).toHaveLength(1);
      await client.close();

      await publishOpen(aor, 'nobody listens');
      await eventually(
        async () => ((await listedSubscriptions(ports.http, aor))?.length === 0 ? true : undefined),
        10_000,
        `the ${transport} subscription dropped after its connection closed`,
      );
    });
  });

  it('drops a UDP watcher that does not answer its NOTIFY, after Timer F', async () => {
    const client = await openClient(ports, 'udp');
    try {
      client.autoAnswer('NOTIFY', 200, () => null);
      const aor = uniqueAor();
      const { response, dialog } = await client.subscribe({ uri: aor, event: 'presence', expires: 120 });
      expect(response.status).toBe(200);
      const first = await nextNotify(client, dialog.callId);
      const firstAt = first.receivedAt ?? Date.now();

      // Timer E retransmits the unanswered NOTIFY (RFC 3261 §17.1.2.2).
      await eventually(
        () => (client.received.some((m) => m.retransmission && m.callId === dialog.callId) ? true : undefined),
        2000,
        'a NOTIFY retransmission',
      );

      // Once Timer F (64*T1 = 3.2 s) fires, the dialog is gone: an in-dialog refresh gets 481.
      client.stopAutoAnswer('NOTIFY');
      await eventually(
        async () => {
          const refresh = await client.inDialog(dialog, 'SUBSCRIBE', { Event: 'presence', Expires: 120 });
          return refresh.status === 481 ? true : undefined;
        },
        8000,
        'subscription dropped after Timer F',
        300,
      );
      expect(Date.now() - firstAt).toBeGreaterThanOrEqual(3000);
      const listed = await listedSubscriptions(ports.http, aor);
      if (listed !== undefined) expect(listed).toHaveLength(0);
      const pending = client.received.length;
      await publishOpen(aor, 'after timer F');
      client.autoAnswer('NOTIFY', 200);
      expect(await notifyArrives(client, dialog.callId, 700)).toBe(false);
      expect(
        client.received.slice(pending).some((m) => m.method === 'NOTIFY' && m.body.includes('after timer F')),
      ).toBe(false);
    } finally {
      await client.close();
    }
  });
});
