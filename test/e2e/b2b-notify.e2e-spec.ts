/**
 * B2B's handling of NOTIFYs against a scripted notifier (a raw SIP endpoint on loopback, reached through
 * b2b.presenceRoute): Subscription-State terminated by reason (RFC 6665 §4.1.3) — rejected ends the
 * browser's watch, probation subscribes again after retry-after; an unsubscribe without a terminating
 * NOTIFY is forgotten after b2b.waitForTermNotify; a NOTIFY of no dialog gets 481.
 */
import type { RunningApp } from '../../src/app.factory';
import { B2bService } from '../../src/b2b/b2b.service';
import { SipClientService } from '../../src/sip-client/sip-client.service';
import { api, pollUntil } from '../utils/e2e-helpers';
import { SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { freePort, startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { WsClient } from '../utils/ws-test-client';

let counter = 0;
const remoteAor = (name: string): string => `sip:${name}-${process.pid}-${counter++}@remote.example`;

describe.each(databaseKinds())('B2B NOTIFY handling against a scripted notifier on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let notifier: SipTestClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // The notifier's requests go to the hub's port, chosen first.
    const sipPort = await freePort();
    notifier = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: sipPort, retransmit: false });
    app = await startTestApp(db, {
      SIP_PORT: String(sipPort),
      SIP_TCP: 'false',
      SIP_DOMAINS: 'here.example',
      B2B_PRESENCE_ROUTE: `sip:127.0.0.1:${notifier.localPort};lr`,
      B2B_WAIT_FOR_TERM_NOTIFY: '1',
      B2B_ON_ERROR_RETRY_TIME: '1',
    });
  });

  afterAll(async () => {
    await app.close();
    await notifier.close();
    await db.drop();
  });

  /** Answers the next SUBSCRIBE for `aor` with 200 and returns it with a NOTIFY sender in its dialog. */
  const accept = async (aor: string, expires = 600) => {
    const sub = await notifier.waitForRequest((m) => m.method === 'SUBSCRIBE' && m.uri === aor && !m.retransmission);
    notifier.respond(sub, 200, {
      toTag: 'scripted',
      headers: { Expires: expires, Contact: `<sip:notifier@127.0.0.1:${notifier.localPort}>` },
    });
    const contact = sub.header('contact')!.replace(/^<|>.*$/g, '');
    let cseq = 1;
    const notify = (state: string, body = '', callId = sub.callId!): Promise<SipTestMessage> =>
      notifier.request({
        method: 'NOTIFY',
        uri: contact,
        callId,
        fromTag: 'scripted',
        cseq: cseq++,
        from: aor,
        headers: {
          To: sub.header('from')!,
          Event: 'presence',
          'Subscription-State': state,
          ...(body !== '' && { 'Content-Type': 'application/pidf+xml' }),
        },
        body,
      });
    return { sub, notify };
  };
  const pidf = (aor: string, note: string): string =>
    `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${aor}"><tuple id="t"><status><basic>open</basic></status><note>${note}</note></tuple></presence>`;
  const recordOf = (id: string) => {
    const key = app.app.get(B2bService).remoteOf(id)?.key;
    return key === undefined ? undefined : app.app.get(SipClientService).get('subscribe', 'b2b', key);
  };

  it('answers NOTIFYs 200, a bad document 400, and a NOTIFY of no dialog 481', async () => {
    const lee = remoteAor('lee');
    const created = await api(app.httpPort, 'POST', '/api/b2b/subscriptions', { presentity: lee });
    const { notify } = await accept(lee);
    expect((await notify('active;expires=600', pidf(lee, 'hello'))).status).toBe(200);
    const view = await api(app.httpPort, 'GET', `/api/b2b/subscriptions/${created.json.id as string}`);
    expect((view.json.state as { body: string }).body).toContain('hello');
    expect((await notify('active;expires=600', '<presence')).status).toBe(400);
    const stray = await notify('active', pidf(lee, 'x'), 'no-such-call-id');
    expect([stray.status, stray.reason]).toEqual([481, 'Unable to handle notification']);
  });

  it('terminated;reason=rejected ends the browser watch with that reason; REST shows it until deleted', async () => {
    const may = remoteAor('may');
    const ws = await WsClient.open(app.httpPort);
    try {
      await ws.ask({ type: 'subscribe', id: 'm', aor: may }, 3000);
      const created = await api(app.httpPort, 'POST', '/api/b2b/subscriptions', { presentity: may });
      const id = created.json.id as string;
      const { notify } = await accept(may);
      expect((await notify('active;expires=600', pidf(may, 'in'))).status).toBe(200);
      expect((await notify('terminated;reason=rejected')).status).toBe(200);
      expect(await ws.next((m) => m.type === 'terminated' && m.id === 'm', 3000, 0)).toMatchObject({
        reason: 'rejected',
      });
      const view = await api(app.httpPort, 'GET', `/api/b2b/subscriptions/${id}`);
      expect(view.json).toMatchObject({ remote: { state: 'terminated' }, state: null });
      expect((await api(app.httpPort, 'DELETE', `/api/b2b/subscriptions/${id}`)).status).toBe(204);
    } finally {
      await ws.close();
    }
  });

  it("refuses a browser's reg watch of another user's remote AoR (the hub's trust is not lent), not its own", async () => {
    const pat = remoteAor('pat');
    const ws = await WsClient.open(app.httpPort);
    try {
      const refused = await ws.ask({
        type: 'subscribe',
        id: 'r',
        aor: pat,
        event: 'reg',
        user: 'sip:eve@here.example',
      });
      expect(refused).toMatchObject({ type: 'error', field: 'aor', message: expect.stringContaining('may not watch') });
      const own = await ws.ask({ type: 'subscribe', id: 'o', aor: pat, event: 'reg', user: pat }, 3000);
      expect(own.type).not.toBe('error');
      const sent = await notifier.waitForRequest((m) => m.method === 'SUBSCRIBE' && m.uri === pat);
      expect(sent.header('event')).toBe('reg');
      expect(sent.header('from')).toContain(pat);
    } finally {
      await ws.close();
    }
  });

  it('terminated;reason=probation subscribes again after retry-after, in a new dialog', async () => {
    const ned = remoteAor('ned');
    const created = await api(app.httpPort, 'POST', '/api/b2b/subscriptions', { presentity: ned });
    const first = await accept(ned);
    const ended = Date.now();
    expect((await first.notify('terminated;reason=probation;retry-after=1')).status).toBe(200);
    expect(recordOf(created.json.id as string)).toMatchObject({ state: 'retrying' });
    const again = await accept(ned);
    expect(Date.now() - ended).toBeGreaterThanOrEqual(900);
    expect(again.sub.callId).not.toBe(first.sub.callId);
    expect(again.sub.toTag).toBeUndefined();
    expect((await api(app.httpPort, 'DELETE', `/api/b2b/subscriptions/${created.json.id as string}`)).status).toBe(204);
  });

  it('without a terminating NOTIFY forgets the dialog after b2b.waitForTermNotify', async () => {
    const ola = remoteAor('ola');
    const created = await api(app.httpPort, 'POST', '/api/b2b/subscriptions', { presentity: ola });
    const id = created.json.id as string;
    const { sub } = await accept(ola);
    await pollUntil(() => (recordOf(id)?.state === 'active' ? true : undefined), 3000, 'ola active');
    const key = app.app.get(B2bService).remoteOf(id)!.key;
    const client = app.app.get(SipClientService);
    expect((await api(app.httpPort, 'DELETE', `/api/b2b/subscriptions/${id}`)).status).toBe(204);
    const bye = await notifier.waitForRequest(
      (m) => m.method === 'SUBSCRIBE' && m.header('expires') === '0' && m.callId === sub.callId,
    );
    notifier.respond(bye, 200, { headers: { Expires: 0 } });
    const answered = Date.now();
    // No NOTIFY comes: the record waits, then goes.
    await pollUntil(
      () => (client.get('subscribe', 'b2b', key)?.state === 'removing' ? true : undefined),
      1000,
      'removing',
    );
    await pollUntil(() => (client.get('subscribe', 'b2b', key) === undefined ? true : undefined), 3000, 'forgotten');
    expect(Date.now() - answered).toBeGreaterThanOrEqual(900);
  });
});
