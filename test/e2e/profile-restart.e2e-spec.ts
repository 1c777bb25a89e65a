/**
 * Issue 15 acceptance: after a kill -9 and a restart, ua-profile subscribers still receive updates in their
 * dialogs (no new SUBSCRIBE, higher CSeq), with their Event parameters kept: an update for another device
 * reaches none of them, and REST still knows which version each holds.
 */
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { nextNotify, notifyArrives, openClient, type ServerPorts } from '../utils/presence-e2e';
import { etagOf, http, subscribeProfile, upload } from '../utils/profile-e2e';
import { headerParam, randomToken, type SipTestClient } from '../utils/sip-test-client';

/** A shared key: content-indirection URLs handed out before the crash stay valid after it. */
const ENV = { PA_CONTENT_URL_SECRET: 'restart-test-secret-0123456789' };

describe.each(databaseKinds())('ua-profile dialogs across kill -9 on %s', (kind) => {
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

  it('sends the next version in the same dialogs after a kill -9 restart', async () => {
    const sipPort = await freePort();
    const httpPort = await freePort();
    const ports: ServerPorts = { udp: sipPort, tcp: sipPort, http: httpPort };
    server = await spawnServer(db, { sipPort, httpPort }, ENV);
    const aor = `sip:mac-${randomToken(6)}@example.com`;
    const acme = { profileType: 'device', vendor: 'acme' };
    expect((await upload(httpPort, aor, 'acme v1', 'text/plain', acme)).status).toBe(201);
    expect(
      (await upload(httpPort, aor, 'zeta v1', 'text/plain', { profileType: 'device', vendor: 'zeta' })).status,
    ).toBe(201);

    const phone = await openClient(ports, 'udp');
    const other = await openClient(ports, 'udp');
    clients.push(phone, other);
    const sub = await subscribeProfile(phone, aor, { 'profile-type': 'device', vendor: 'acme', model: 'p3' });
    const zeta = await subscribeProfile(other, aor, { 'profile-type': 'device', vendor: 'zeta' });
    expect(sub.notify?.body).toBe('acme v1');
    expect(zeta.notify?.body).toBe('zeta v1');
    const cseqBefore = sub.notify!.cseq!.seq;
    const pointer = await subscribeProfile(
      other,
      aor,
      { 'profile-type': 'device', vendor: 'zeta' },
      { accept: 'message/external-body' },
    );
    const url = headerParam(pointer.notify?.header('content-type'), 'URL') ?? '';
    expect(url).toContain('/api/content/ua-profile/');

    await server.kill('SIGKILL');
    server = await spawnServer(db, { sipPort, httpPort }, ENV);

    const put = await upload(httpPort, aor, 'acme v2', 'text/plain', acme);
    expect(put.status).toBe(200);
    const update = await nextNotify(phone, sub.dialog.callId, 10_000);
    expect(update.body).toBe('acme v2');
    expect(update.cseq!.seq).toBeGreaterThan(cseqBefore);
    expect(update.toTag).toBe(sub.dialog.fromTag);
    expect(update.fromTag).toBe(sub.dialog.toTag);
    expect(await notifyArrives(other, zeta.dialog.callId, 700)).toBe(false);
    const fetched = await http(httpPort, 'GET', url);
    expect(fetched.status).toBe(200);
    expect(fetched.bytes.toString()).toBe('zeta v1');

    const status = await http(httpPort, 'GET', `/api/profiles/${encodeURIComponent(aor)}/status`);
    const holders = status.json.subscribers as { etag?: string | null; target: Record<string, string> }[];
    const zeta1 = (status.json.versions as { vendor: string; etag: string }[]).find((v) => v.vendor === 'zeta')!.etag;
    // The acme phone holds the new version; both zeta subscriptions (bytes and pointer) the one they had.
    expect(holders.map((h) => h.etag).sort()).toEqual([etagOf(put), zeta1, zeta1].sort());

    // The dialog goes on: a refresh is answered in it and gets the current version.
    const refresh = await phone.inDialog(sub.dialog, 'SUBSCRIBE', {
      Event: 'ua-profile;profile-type=device;vendor="acme";model="p3"',
      Expires: 600,
    });
    expect(refresh.status).toBe(200);
    expect((await nextNotify(phone, sub.dialog.callId)).body).toBe('acme v2');
  });
});
