/**
 * Issue 14 acceptance: reg versions survive a kill -9. After the restart the watcher's dialog goes on
 * without a new SUBSCRIBE: a binding that expired while the server was down is announced as `expired`, a
 * refresh as `refreshed`, with the next versions (never repeated, never back) and higher CSeq.
 */
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { openClient, uniqueAor, type ServerPorts } from '../utils/presence-e2e';
import { contactsOf, RegWatch } from '../utils/reginfo-e2e';
import type { SipTestClient } from '../utils/sip-test-client';

const ENV = { REGISTRAR_MIN_EXPIRES: '1', REGISTRAR_TIMER_INTERVAL: '1' };

describe.each(databaseKinds())('reg versions across kill -9 on %s', (kind) => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  const clients: SipTestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await server?.kill();
    await db.drop();
  });

  it('continues the versions of a reg dialog after a kill -9 restart', async () => {
    const sipPort = await freePort();
    const httpPort = await freePort();
    const ports: ServerPorts = { udp: sipPort, tcp: sipPort, http: httpPort };
    server = await spawnServer(db, { sipPort, httpPort }, ENV);
    const watcher = await openClient(ports, 'udp');
    const phone = await openClient(ports, 'udp');
    const brief = await openClient(ports, 'udp');
    clients.push(watcher, phone, brief);
    const aor = uniqueAor('alice');

    const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', from: aor, expires: 3600 });
    expect(response.status).toBe(200);
    const watch = new RegWatch(watcher, dialog);
    const first = await watch.next();
    expect(first.doc.state).toBe('full');

    const contact = `"Alice" <${phone.contactUri('alice')}>;line=1`;
    expect((await phone.register({ aor, contact, expires: 3600 })).status).toBe(200);
    const long = await watch.next();
    const longId = contactsOf(long.doc)[0].id;
    expect((await brief.register({ aor, contact: `<${brief.contactUri('brief')}>`, expires: 2 })).status).toBe(200);
    const short = await watch.next();
    const shortId = contactsOf(short.doc)[0].id;
    expect(contactsOf(short.doc)[0].event).toBe('created');
    const cseqBefore = short.notify.cseq!.seq;

    await server.kill('SIGKILL');
    // Long enough for the brief binding to run out while the server is down.
    await new Promise((r) => setTimeout(r, 2500));
    server = await spawnServer(db, { sipPort, httpPort }, ENV);

    const expired = await watch.partial([`${shortId}/terminated/expired`], 10_000);
    expect(expired.version).toBe(3);
    expect((await phone.register({ aor, contact, expires: 3600 })).status).toBe(200);
    const refreshed = await watch.partial([`${longId}/active/refreshed`]);
    expect(refreshed.version).toBe(4);

    // The dialog is the same one (no new SUBSCRIBE), its CSeq higher than before the crash.
    const refresh = await watcher.inDialog(dialog, 'SUBSCRIBE', { Event: 'reg', Expires: 3600 });
    expect(refresh.status).toBe(200);
    const full = await watch.next();
    expect(full.doc).toMatchObject({ version: 5, state: 'full' });
    // The stored binding kept its display name and parameters.
    expect(contactsOf(full.doc)[0]).toMatchObject({
      displayName: 'Alice',
      unknownParams: [{ name: 'line', value: '1' }],
    });
    expect(full.notify.cseq!.seq).toBeGreaterThan(cseqBefore);
  });
});
