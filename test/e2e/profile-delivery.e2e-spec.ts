/**
 * Issue 15 acceptance: ua-profile documents (RFC 6080) uploaded over REST reach subscribing devices byte for
 * byte with their Content-Type (XML, JSON, binary; UDP, TCP, WS); device targeting by vendor, model and
 * version (the most specific match wins); an update reaches the matching subscribers and no other; a delete
 * sends the next best match or an empty NOTIFY; who may subscribe (403), Accept (406), profile-type (489);
 * REST guards (412, 413) and listings.
 */
import { notifyArrives, uniqueAor, nextNotify } from '../utils/presence-e2e';
import {
  binaryDocument,
  etagOf,
  http,
  profilePath,
  subscribeProfile,
  upload,
  startProfileApp,
  type ProfileTestApp,
} from '../utils/profile-e2e';
import { randomToken, type SipTestMessage, type SipTestTransport } from '../utils/sip-test-client';
import { databaseKinds } from '../utils/test-database';
import type { Msg } from '../utils/ws-test-client';

const MAX = 100_000;
const ENV = { PRESENCE_PROFILE_MAX_DOCUMENT_SIZE: String(MAX) };

/** A NOTIFY's body as it arrived and its type. */
function delivered(n: SipTestMessage | undefined): { type: string | undefined; bytes: Buffer } {
  return { type: n?.header('content-type'), bytes: n?.bodyBytes ?? Buffer.alloc(0) };
}

describe.each(databaseKinds())('ua-profile delivery on %s', (kind) => {
  let t: ProfileTestApp;

  beforeAll(async () => {
    t = await startProfileApp(kind, ENV);
  });

  afterAll(() => t.close());

  it.each<[string, SipTestTransport, string, Buffer]>([
    [
      'XML',
      'udp',
      'application/vnd.acme.config+xml; charset=UTF-8',
      Buffer.from(
        '<?xml version="1.0"?>\r\n<config  a="1" >\n\t<sip-server>pbx.example.com</sip-server><!-- é --></config>\n',
      ),
    ],
    [
      'JSON',
      'tcp',
      'application/json',
      Buffer.from('{ "server":"pbx.example.com",\n  "codecs" : [ "opus" , "g722" ] }'),
    ],
    ['binary', 'ws', 'application/octet-stream', binaryDocument(600)],
  ])('delivers a %s document over %s byte for byte with its Content-Type', async (_what, transport, type, doc) => {
    const aor = uniqueAor('dev');
    const put = await upload(t.httpPort, aor, doc, type);
    expect(put.status).toBe(201);
    const etag = etagOf(put);
    expect(put.json).toMatchObject({ aor, profileType: 'user', contentType: type, etag, size: doc.length });

    const got = await http(t.httpPort, 'GET', profilePath(aor));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe(type);
    expect(etagOf(got)).toBe(etag);
    expect(got.bytes.equals(doc)).toBe(true);

    const phone = await t.client(transport);
    const { response, notify } = await subscribeProfile(phone, aor, { 'profile-type': 'user' });
    expect(response.status).toBe(200);
    const body = delivered(notify);
    expect(body.type).toBe(type);
    expect(body.bytes.equals(doc)).toBe(true);
    expect(notify?.header('event')).toBe('ua-profile');
  });

  it('targets devices by vendor, model and version; an update reaches matching subscribers only; a delete falls back', async () => {
    const aor = `sip:mac-${randomToken(6)}@example.com`;
    const device = { profileType: 'device' };
    const docs = {
      generic: Buffer.from('generic'),
      acme: Buffer.from('acme any model'),
      p3: Buffer.from('acme p3'),
    };
    expect((await upload(t.httpPort, aor, docs.generic, 'text/plain', device)).status).toBe(201);
    expect((await upload(t.httpPort, aor, docs.acme, 'text/plain', { ...device, vendor: 'acme' })).status).toBe(201);
    const p3 = await upload(t.httpPort, aor, docs.p3, 'text/plain', { ...device, vendor: 'acme', model: 'p3' });
    expect(p3.status).toBe(201);

    const [a, b, c] = [await t.client('udp'), await t.client('tcp'), await t.client('udp')];
    const subA = await subscribeProfile(a, aor, {
      'profile-type': 'device',
      vendor: 'acme',
      model: 'p3',
      version: '1.0',
    });
    const subB = await subscribeProfile(b, aor, { 'profile-type': 'device', vendor: 'ACME', model: 'p2' });
    const subC = await subscribeProfile(c, aor, { 'profile-type': 'device', vendor: 'zeta', model: 'z1' });
    expect(delivered(subA.notify).bytes.toString()).toBe('acme p3');
    expect(delivered(subB.notify).bytes.toString()).toBe('acme any model');
    expect(delivered(subC.notify).bytes.toString()).toBe('generic');

    // A new version of the p3 document: only A is told, with the new bytes.
    const v2 = Buffer.from('acme p3 v2');
    const put = await upload(t.httpPort, aor, v2, 'text/plain', { ...device, vendor: 'acme', model: 'p3' });
    expect(put.status).toBe(200);
    const update = await nextNotify(a, subA.dialog.callId);
    expect(delivered(update).bytes.equals(v2)).toBe(true);
    expect(await notifyArrives(b, subB.dialog.callId, 700)).toBe(false);
    expect(await notifyArrives(c, subC.dialog.callId, 100)).toBe(false);

    // REST shows which versions exist and which subscriber holds which.
    const status = await http(t.httpPort, 'GET', `/api/profiles/${encodeURIComponent(aor)}/status`);
    expect(status.status).toBe(200);
    const versions = status.json.versions as { etag: string; vendor?: string; model?: string }[];
    expect(versions).toHaveLength(3);
    const holders = status.json.subscribers as {
      watcher: string;
      etag: string | null;
      target: Record<string, string>;
    }[];
    const p3Etag = etagOf(put);
    expect(holders.filter((h) => h.etag === p3Etag)).toHaveLength(1);
    expect(holders).toHaveLength(3);
    // The targets as the phones meant them: quoted Event parameter values without their quotes.
    expect(holders.map((h) => h.target.vendor).sort()).toEqual(['ACME', 'acme', 'zeta']);

    // Deleting the p3 document: A falls back to the vendor's document.
    const del = await http(t.httpPort, 'DELETE', profilePath(aor, { ...device, vendor: 'acme', model: 'p3' }));
    expect(del.status).toBe(204);
    expect(delivered(await nextNotify(a, subA.dialog.callId)).bytes.toString()).toBe('acme any model');
    expect(await notifyArrives(c, subC.dialog.callId, 300)).toBe(false);

    // Deleting the rest: every subscriber ends with a NOTIFY without body.
    expect((await http(t.httpPort, 'DELETE', profilePath(aor, { ...device, vendor: 'acme' }))).status).toBe(204);
    expect(delivered(await nextNotify(a, subA.dialog.callId)).bytes.toString()).toBe('generic');
    expect(delivered(await nextNotify(b, subB.dialog.callId)).bytes.toString()).toBe('generic');
    expect((await http(t.httpPort, 'DELETE', profilePath(aor, device))).status).toBe(204);
    for (const [cl, sub] of [
      [a, subA],
      [b, subB],
      [c, subC],
    ] as const) {
      const empty = await nextNotify(cl, sub.dialog.callId);
      expect(empty.bodyBytes.length).toBe(0);
      expect(empty.header('content-type')).toBeUndefined();
      expect(empty.header('subscription-state')).toMatch(/^active/);
    }
  });

  it('serves a local-network document to the devices of its domain, and a user without document an empty NOTIFY', async () => {
    const domain = `net-${randomToken(4)}.example.org`;
    const doc = Buffer.from('<network><ntp>ntp.example.org</ntp></network>');
    const put = await upload(t.httpPort, domain, doc, 'application/xml', { profileType: 'local-network' });
    expect(put.status).toBe(201);
    expect(put.json.aor).toBe(`sip:anonymous@${domain}`);
    const phone = await t.client('udp');
    const own = `sip:desk1@${domain}`;
    const net = await subscribeProfile(
      phone,
      `sip:anonymous@${domain}`,
      { 'profile-type': 'local-network' },
      { from: own },
    );
    expect(net.response.status).toBe(200);
    expect(delivered(net.notify).bytes.equals(doc)).toBe(true);
    const user = await subscribeProfile(phone, own, { 'profile-type': 'user' });
    expect(user.response.status).toBe(200);
    expect(user.notify?.bodyBytes.length).toBe(0);
    // A device of another domain may not read it.
    const stranger = await subscribeProfile(
      phone,
      `sip:anonymous@${domain}`,
      { 'profile-type': 'local-network' },
      {
        from: 'sip:desk1@elsewhere.example.com',
      },
    );
    expect(stranger.response.status).toBe(403);
  });

  it('refuses a stranger (403), an Accept that excludes the document (406) and a missing profile-type (489)', async () => {
    const aor = uniqueAor('carol');
    expect((await upload(t.httpPort, aor, '<cfg/>', 'application/xml')).status).toBe(201);
    const phone = await t.client('udp');
    const stranger = await subscribeProfile(phone, aor, { 'profile-type': 'user' }, { from: uniqueAor('mallory') });
    expect(stranger.response.status).toBe(403);
    const excluded = await subscribeProfile(phone, aor, { 'profile-type': 'user' }, { accept: 'application/json' });
    expect(excluded.response.status).toBe(406);
    expect(excluded.response.header('accept')).toContain('application/xml');
    const wildcard = await subscribeProfile(phone, aor, { 'profile-type': 'user' }, { accept: 'application/*' });
    expect(wildcard.response.status).toBe(200);
    const { response } = await phone.subscribe({ uri: aor, event: 'ua-profile', from: aor, expires: 60 });
    expect(response.status).toBe(489);
    expect(response.reason).toContain('profile-type');
    const unknown = await subscribeProfile(phone, aor, { 'profile-type': 'application' });
    expect(unknown.response.status).toBe(489);
  });

  it('puts effective-by in the Event header of the NOTIFY when the upload set one', async () => {
    const aor = uniqueAor('dave');
    expect((await upload(t.httpPort, aor, 'x=1', 'text/plain', { effectiveBy: '3600' })).status).toBe(201);
    const phone = await t.client('tcp');
    const { notify } = await subscribeProfile(phone, aor, { 'profile-type': 'user' });
    expect(notify?.header('event')).toBe('ua-profile;effective-by=3600');
  });

  it('guards edits with entity tags (412), limits the size (413), names bad fields (400) and lists with filters', async () => {
    const aor = uniqueAor('erin');
    const first = await upload(t.httpPort, aor, 'v1', 'text/plain');
    const v1 = etagOf(first);
    const second = await upload(t.httpPort, aor, 'v2', 'text/plain', {}, { 'if-match': `"${v1}"` });
    expect(second.status).toBe(200);
    const stale = await upload(t.httpPort, aor, 'v3', 'text/plain', {}, { 'if-match': `"${v1}"` });
    expect(stale.status).toBe(412);
    expect(stale.json).toMatchObject({ statusCode: 412, field: 'If-Match' });
    const staleDelete = await http(t.httpPort, 'DELETE', profilePath(aor), undefined, { 'if-match': `"${v1}"` });
    expect(staleDelete.status).toBe(412);
    expect((await http(t.httpPort, 'GET', profilePath(aor))).bytes.toString()).toBe('v2');

    const big = await upload(t.httpPort, aor, Buffer.alloc(MAX + 1, 0x41), 'text/plain');
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ statusCode: 413, field: 'body' });
    const atLimit = await upload(t.httpPort, uniqueAor('limit'), Buffer.alloc(MAX, 0x41), 'text/plain');
    expect(atLimit.status).toBe(201);

    const badType = await upload(t.httpPort, aor, 'x', 'text/plain', { profileType: 'phone' });
    expect(badType.json).toMatchObject({ statusCode: 400, field: 'profileType' });
    const badAor = await upload(t.httpPort, 'not an aor', 'x', 'text/plain');
    expect(badAor.json).toMatchObject({ statusCode: 400, field: 'aor' });
    const none = await http(t.httpPort, 'GET', profilePath(aor, { vendor: 'nobody' }));
    expect(none.json).toMatchObject({ statusCode: 404, field: 'aor' });

    expect((await upload(t.httpPort, aor, 'acme', 'text/plain', { vendor: 'acme' })).status).toBe(201);
    const list = await http(t.httpPort, 'GET', `/api/profiles?aor=${encodeURIComponent(aor)}&limit=1`);
    expect(list.json).toMatchObject({ total: 2, page: 1, limit: 1 });
    const byVendor = await http(t.httpPort, 'GET', `/api/profiles?aor=${encodeURIComponent(aor)}&vendor=acme`);
    expect(byVendor.json).toMatchObject({ total: 1, items: [{ vendor: 'acme', size: 4 }] });
    const byType = await http(t.httpPort, 'GET', `/api/profiles?profileType=bogus`);
    expect(byType.json).toMatchObject({ statusCode: 400, field: 'profileType' });
  });

  it('shows the versions and who holds which over REST and the browser WebSocket', async () => {
    const aor = uniqueAor('fay');
    const ws = await t.socket();
    const isState = (m: Msg): boolean => m.type === 'state' && m.id === 'p';
    const first = await ws.ask({ type: 'subscribe', id: 'p', aor, event: 'ua-profile', user: aor });
    expect(first).toMatchObject({ type: 'state', aor, event: 'ua-profile', state: { documents: [] } });

    const phone = await t.client('tcp');
    const since = ws.received.length;
    const put = await upload(t.httpPort, aor, '{"a":1}', 'application/json');
    const sub = await subscribeProfile(phone, aor, { 'profile-type': 'user' });
    expect(sub.notify?.body).toBe('{"a":1}');
    const pushed = await ws.next((m) => isState(m) && JSON.stringify(m.state).includes(etagOf(put)), 2000, since);
    expect((pushed.state as { documents: { etag: string; contentType: string }[] }).documents).toEqual([
      expect.objectContaining({ etag: etagOf(put), contentType: 'application/json', size: 7 }),
    ]);

    const read = await http(t.httpPort, 'GET', `/api/presentities/${encodeURIComponent(aor)}/ua-profile`);
    const subscribers = read.json.subscribers as { kind: string; etag?: string | null; watcher: string }[];
    expect(subscribers).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'sip', watcher: aor, etag: etagOf(put) })]),
    );
  });

  it('documents the profile and content routes in OpenAPI', async () => {
    const res = await http(t.httpPort, 'GET', '/docs-json');
    expect(res.status).toBe(200);
    const paths = res.json.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/api/profiles/{aor}']).sort()).toEqual(['delete', 'get', 'put']);
    expect(paths['/api/profiles']).toHaveProperty('get');
    expect(paths['/api/profiles/{aor}/status']).toHaveProperty('get');
    expect(paths['/api/content/{event}/{ref}']).toHaveProperty('get');
    const put = paths['/api/profiles/{aor}'].put as {
      parameters: { name: string }[];
      responses: Record<string, unknown>;
    };
    expect(put.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['aor', 'profileType', 'vendor', 'model', 'version', 'appids', 'effectiveBy', 'If-Match']),
    );
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '412', '413', '415']));
  });
});
