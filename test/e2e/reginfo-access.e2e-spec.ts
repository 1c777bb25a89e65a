/**
 * Issue 14 acceptance: implicit identities (the AoR attribute named by puaReginfo.ulIdentitiesKey lists the
 * other public identities: one registration element each, same contacts), who may subscribe (own AoR and
 * trusted watchers; strangers 403, over SIP and the browser WebSocket), and one state whatever the reader:
 * REST JSON, REST with Accept: application/reginfo+xml, the browser WebSocket's `state` and SIP NOTIFY bodies.
 */
import type { RunningApp } from '../../src/app.factory';
import type { Registration } from '../../src/presence-reginfo/reginfo';
import { api, registrationPath } from '../utils/e2e-helpers';
import { openClient, portsOf, uniqueAor } from '../utils/presence-e2e';
import { REGINFO_TYPE, RegWatch, validReginfo } from '../utils/reginfo-e2e';
import type { SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { WsClient, type Msg } from '../utils/ws-test-client';

const ENV = {
  PUA_REGINFO_UL_IDENTITIES_KEY: 'identities',
  PRESENCE_REGINFO_TRUSTED_WATCHERS: 'sip:as@example.com,pcscf.example.net',
};

/** What every reader must agree on: registrations and their contacts, without the times that move. */
function comparable(regs: readonly Registration[]): unknown {
  return regs.map((r) => ({
    aor: r.aor,
    id: r.id,
    state: r.state,
    contacts: r.contacts.map((c) => ({ id: c.id, state: c.state, event: c.event, uri: c.uri, callid: c.callid })),
  }));
}

describe.each(databaseKinds())('reg identities, authorization and readers on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  const clients: SipTestClient[] = [];
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, ENV);
  });

  afterAll(async () => {
    for (const s of sockets) await s.close();
    for (const c of clients) await c.close();
    await app.close();
    await db.drop();
  });

  async function client(): Promise<SipTestClient> {
    const c = await openClient(portsOf(app), 'udp');
    clients.push(c);
    return c;
  }

  async function socket(): Promise<WsClient> {
    const s = await WsClient.open(app.httpPort);
    sockets.push(s);
    return s;
  }

  it('lists a registration for each public identity, and tells watchers when the list changes', async () => {
    const aor = uniqueAor('alice');
    const tel = `tel:+1555${Math.floor(Math.random() * 1e6)}`;
    const attr = `${registrationPath(aor)}/attributes/identities`;
    expect((await api(app.httpPort, 'PUT', attr, { value: `<${aor}>, <${tel}>` })).status).toBe(200);
    const phone = await client();
    expect((await phone.register({ aor, expires: 600 })).status).toBe(200);

    const watcher = await client();
    const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', from: aor, expires: 600 });
    expect(response.status).toBe(200);
    const watch = new RegWatch(watcher, dialog);
    const { doc } = await watch.next();
    expect(doc.registrations.map((r) => r.aor)).toEqual([aor, tel]);
    const [a, b] = doc.registrations;
    expect(a.id).not.toBe(b.id);
    expect(b.contacts).toEqual(a.contacts);
    expect(a.contacts).toHaveLength(1);

    // A partial NOTIFY names the changed contact under both identities.
    expect((await phone.register({ aor, expires: 600 })).status).toBe(200);
    const refreshed = await watch.next();
    expect(refreshed.doc.registrations.map((r) => [r.aor, r.contacts[0].event])).toEqual([
      [aor, 'refreshed'],
      [tel, 'refreshed'],
    ]);

    // Removing the attribute notifies full state with the AoR alone.
    expect((await api(app.httpPort, 'DELETE', attr)).status).toBe(204);
    const alone = await watch.next();
    expect(alone.doc.state).toBe('full');
    expect(alone.doc.registrations.map((r) => r.aor)).toEqual([aor]);
  });

  it('lets a user watch its own AoR and trusted watchers any; strangers get 403 over SIP and WebSocket', async () => {
    const aor = uniqueAor('bob');
    const c = await client();
    const own = await c.subscribe({ uri: aor, event: 'reg', from: aor, expires: 600 });
    expect(own.response.status).toBe(200);
    const stranger = await c.subscribe({ uri: aor, event: 'reg', from: 'sip:mallory@example.com', expires: 600 });
    expect(stranger.response.status).toBe(403);
    const as = await c.subscribe({ uri: aor, event: 'reg', from: 'sip:as@example.com', expires: 600 });
    expect(as.response.status).toBe(200);
    const pcscf = await c.subscribe({ uri: aor, event: 'reg', from: 'sip:pcscf.example.net', expires: 600 });
    expect(pcscf.response.status).toBe(200);

    const ws = await socket();
    const refused = await ws.ask({ type: 'subscribe', id: 'x', aor, event: 'reg', user: 'sip:mallory@example.com' });
    expect(refused).toMatchObject({ type: 'error', id: 'x' });
    expect(String(refused.message)).toContain('may not watch');
    const anonymous = await ws.ask({ type: 'subscribe', id: 'y', aor, event: 'reg' });
    expect(anonymous.type).toBe('error');
  });

  it('gives REST, the browser WebSocket and SIP NOTIFY the same state', async () => {
    const aor = uniqueAor('carol');
    const desk = await client();
    const mobile = await client();
    expect((await desk.register({ aor, contact: `<${desk.contactUri('desk')}>;q=0.9`, expires: 600 })).status).toBe(
      200,
    );

    const ws = await socket();
    const isState = (m: Msg): boolean => m.type === 'state' && m.id === 'w';
    const firstState = await ws.ask({ type: 'subscribe', id: 'w', aor, event: 'reg', user: aor });
    expect(firstState).toMatchObject({ type: 'state', aor, event: 'reg' });

    const watcher = await client();
    const { dialog } = await watcher.subscribe({ uri: aor, event: 'reg', from: aor, expires: 600 });
    const watch = new RegWatch(watcher, dialog);
    await watch.next();

    // A second device registers: every reader sees both.
    const since = ws.received.length;
    expect((await mobile.register({ aor, contact: `<${mobile.contactUri('mobile')}>`, expires: 600 })).status).toBe(
      200,
    );
    await watch.next();
    const pushed = await ws.next((m) => isState(m) && JSON.stringify(m.state).includes('mobile'), 2000, since);
    // A refresh SUBSCRIBE gets the full document to compare.
    expect((await watcher.inDialog(dialog, 'SUBSCRIBE', { Event: 'reg', Expires: 600 })).status).toBe(200);
    const { doc: sip } = await watch.next();
    expect(sip.state).toBe('full');

    const json = await api(app.httpPort, 'GET', `/api/presentities/${encodeURIComponent(aor)}/reg`);
    expect(json.status).toBe(200);
    const xml = await api(app.httpPort, 'GET', `/api/presentities/${encodeURIComponent(aor)}/reg`, undefined, {
      accept: REGINFO_TYPE,
    });
    expect(xml.status).toBe(200);
    expect(xml.contentType).toContain(REGINFO_TYPE);
    const rest = validReginfo(xml.text);

    const expected = comparable(sip.registrations);
    expect((expected as { contacts: unknown[] }[])[0].contacts).toHaveLength(2);
    expect(comparable((json.json as { registrations: Registration[] }).registrations)).toEqual(expected);
    expect(comparable(rest.registrations)).toEqual(expected);
    expect(comparable((pushed.state as { registrations: Registration[] }).registrations)).toEqual(expected);
    const q = sip.registrations[0].contacts.find((c) => c.uri.includes('desk'))?.q;
    expect(q).toBe('0.9');
  });
});
