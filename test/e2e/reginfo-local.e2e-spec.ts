/**
 * Issue 14 acceptance, local source: a `reg` watcher (RFC 3680) over UDP, TCP and WS sees every change of the
 * location service with the right event — register (created), refresh, shortened expiry, un-REGISTER, expiry,
 * a closed WebSocket flow and a removal over REST (deactivated) — full state first and after a refresh
 * SUBSCRIBE, partial state otherwise, each body valid against the RFC's schema, versions +1 each NOTIFY.
 */
import type { RunningApp } from '../../src/app.factory';
import { api, registrationPath } from '../utils/e2e-helpers';
import { openClient, portsOf, subscriptionState, TRANSPORTS, uniqueAor } from '../utils/presence-e2e';
import { contactsOf, REGINFO_TYPE, RegWatch } from '../utils/reginfo-e2e';
import type { SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

/** Short registrations allowed, swept every second, so that a binding expires within the test. */
const ENV = { REGISTRAR_MIN_EXPIRES: '1', REGISTRAR_TIMER_INTERVAL: '1' };

describe.each(databaseKinds())('reg watchers of the location service on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  const clients: SipTestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, ENV);
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await app.close();
    await db.drop();
  });

  async function client(transport: 'udp' | 'tcp' | 'ws'): Promise<SipTestClient> {
    const c = await openClient(portsOf(app), transport);
    clients.push(c);
    return c;
  }

  it.each(TRANSPORTS)('tells a watcher over %s of every registration event', async (transport) => {
    const aor = uniqueAor('alice');
    const watcher = await client(transport);
    const phone = await client('udp');

    // SUBSCRIBE without Accept: application/reginfo+xml is assumed; full state, version 0, no contact yet.
    const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', from: aor, expires: 600 });
    expect(response.status).toBe(200);
    const watch = new RegWatch(watcher, dialog);
    const { doc: first, notify } = await watch.next();
    expect(notify.header('content-type')).toBe(REGINFO_TYPE);
    expect(first.state).toBe('full');
    expect(first.registrations).toEqual([expect.objectContaining({ aor, state: 'init', contacts: [] })]);

    // A new binding: created; its display name and other Contact parameters are in the document.
    const contact = `"Alice Desk" <${phone.contactUri('alice')}>;audio;x-line="2"`;
    expect((await phone.register({ aor, contact, expires: 600 })).status).toBe(200);
    const created = await watch.next();
    expect(created.doc.state).toBe('partial');
    expect(created.doc.registrations[0]).toMatchObject({ aor, state: 'active' });
    const c1 = contactsOf(created.doc)[0];
    expect(c1).toMatchObject({ state: 'active', event: 'created', uri: phone.contactUri('alice'), expires: 600 });
    expect(c1.callid).toBeTruthy();
    expect(c1.displayName).toBe('Alice Desk');
    expect(c1.unknownParams).toEqual([
      { name: 'audio', value: '' },
      { name: 'x-line', value: '"2"' },
    ]);
    const id = c1.id;

    // A refresh with the same expiry: refreshed, still one NOTIFY.
    expect((await phone.register({ aor, contact, expires: 600 })).status).toBe(200);
    await watch.partial([`${id}/active/refreshed`]);

    // A shorter expiry: shortened.
    expect((await phone.register({ aor, contact, expires: 300 })).status).toBe(200);
    const shortened = await watch.partial([`${id}/active/shortened`]);
    expect(contactsOf(shortened)[0].expires).toBe(300);

    // Un-REGISTER: unregistered, and the registration terminated.
    expect((await phone.register({ aor, contact, expires: 0 })).status).toBe(200);
    const unregistered = await watch.partial([`${id}/terminated/unregistered`]);
    expect(unregistered.registrations[0].state).toBe('terminated');

    // A binding that runs out: expired.
    expect((await phone.register({ aor, contact, expires: 1 })).status).toBe(200);
    const again = await watch.next();
    const id2 = contactsOf(again.doc)[0].id;
    expect(contactsOf(again.doc)[0].event).toBe('created');
    await watch.partial([`${id2}/terminated/expired`], 6000);

    // A WebSocket device whose socket closes: deactivated.
    const browser = await client('ws');
    expect((await browser.register({ aor, expires: 600 })).status).toBe(200);
    const ws = await watch.next();
    const wsId = contactsOf(ws.doc)[0].id;
    await browser.close();
    await watch.partial([`${wsId}/terminated/deactivated`]);

    // An administrative removal over REST: deactivated too.
    expect((await phone.register({ aor, contact, expires: 600 })).status).toBe(200);
    const back = await watch.next();
    const id3 = contactsOf(back.doc)[0].id;
    expect((await api(app.httpPort, 'DELETE', `${registrationPath(aor)}/contacts/${id3}`)).status).toBe(204);
    await watch.partial([`${id3}/terminated/deactivated`]);

    // A refresh SUBSCRIBE gets full state again, with the next version.
    expect((await phone.register({ aor, contact, expires: 600 })).status).toBe(200);
    await watch.next();
    const refresh = await watcher.inDialog(dialog, 'SUBSCRIBE', { Event: 'reg', Expires: 600 });
    expect(refresh.status).toBe(200);
    const full = await watch.next();
    expect(full.doc.state).toBe('full');
    expect(contactsOf(full.doc).map((c) => [c.state, c.event])).toEqual([['active', 'registered']]);
    expect(full.doc.version).toBe(12);

    // Unsubscribing ends with a last full-state NOTIFY, the next version again.
    expect((await watcher.inDialog(dialog, 'SUBSCRIBE', { Event: 'reg', Expires: 0 })).status).toBe(200);
    const last = await watch.next();
    expect(subscriptionState(last.notify).state).toBe('terminated');
    expect(last.doc.state).toBe('full');
  });

  it('uses presenceReginfo.defaultExpires without Expires, and refuses an Accept without reginfo', async () => {
    const aor = uniqueAor('carol');
    const watcher = await client('udp');
    const sub = await watcher.subscribe({ uri: aor, event: 'reg', from: aor });
    expect(sub.response.status).toBe(200);
    expect(Number(sub.response.header('expires'))).toBe(3600);
    await new RegWatch(watcher, sub.dialog).next();
    const refused = await watcher.subscribe({ uri: aor, event: 'reg', from: aor, accept: 'application/pidf+xml' });
    expect(refused.response.status).toBe(406);
  });
});
