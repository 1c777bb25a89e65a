/**
 * Issue 15 acceptance, sizes: a 20 KB profile reaches a UDP subscriber (over TCP to the same contact, RFC 3261
 * §18.1.1), a TCP and a WS subscriber whole; a 1 MB profile reaches a subscriber by content indirection
 * (RFC 4483): its NOTIFY points at an HTTP URL with an access token, which serves the bytes, and nothing
 * without the token.
 */
import { nextNotify, uniqueAor } from '../utils/presence-e2e';
import {
  binaryDocument,
  etagOf,
  http,
  subscribeProfile,
  upload,
  startProfileApp,
  type ProfileTestApp,
} from '../utils/profile-e2e';
import { headerParam, type SipTestTransport } from '../utils/sip-test-client';
import { databaseKinds } from '../utils/test-database';

describe.each(databaseKinds())('ua-profile sizes and content indirection on %s', (kind) => {
  let t: ProfileTestApp;

  beforeAll(async () => {
    t = await startProfileApp(kind);
  });

  afterAll(() => t.close());

  it.each<[SipTestTransport, SipTestTransport]>([
    ['udp', 'tcp'],
    ['tcp', 'tcp'],
    ['ws', 'ws'],
  ])('a 20 KB document reaches a %s subscriber whole (over %s)', async (transport, over) => {
    const aor = uniqueAor('big');
    const doc = Buffer.from(`<config>${'<line>0123456789abcdef</line>'.repeat(800)}</config>`);
    expect(doc.length).toBeGreaterThan(20_000);
    expect((await upload(t.httpPort, aor, doc, 'application/xml')).status).toBe(201);
    // A UDP phone also listens on TCP at the same port, where a request too large for a datagram comes.
    const phone = await t.client(transport, transport === 'udp' ? { listenTcp: true } : {});
    const { response, notify } = await subscribeProfile(phone, aor, { 'profile-type': 'user' });
    expect(response.status).toBe(200);
    expect(notify?.receivedOver).toBe(over);
    expect(notify?.bodyBytes.equals(doc)).toBe(true);

    // A new version goes the same way.
    const v2 = Buffer.concat([doc, Buffer.from('<!-- v2 -->')]);
    expect((await upload(t.httpPort, aor, v2, 'application/xml')).status).toBe(200);
    const update = await nextNotify(phone, notify!.callId!, 10_000);
    expect(update.receivedOver).toBe(over);
    expect(update.bodyBytes.equals(v2)).toBe(true);
  });

  it('a 1 MB document reaches a subscriber by indirection: fetched over HTTP with its token, refused without', async () => {
    const aor = uniqueAor('huge');
    const doc = binaryDocument(1_000_000, 11);
    const put = await upload(t.httpPort, aor, doc, 'application/octet-stream');
    expect(put.status).toBe(201);
    const etag = etagOf(put);
    const phone = await t.client('udp');
    const { response, notify } = await subscribeProfile(
      phone,
      aor,
      { 'profile-type': 'user' },
      { accept: ['message/external-body', 'application/octet-stream'] },
    );
    expect(response.status).toBe(200);
    const type = notify?.header('content-type') ?? '';
    expect(type).toMatch(/^message\/external-body;/);
    expect(headerParam(type, 'access-type')).toBe('URL');
    expect(headerParam(type, 'size')).toBe(String(doc.length));
    expect(headerParam(type, 'expiration')).toMatch(/GMT$/);
    expect(notify?.body).toContain('Content-Type: application/octet-stream\r\n');
    expect(notify?.body).toContain(`Content-ID: <${etag}@`);
    expect(notify!.bodyBytes.length).toBeLessThan(1000);
    const url = headerParam(type, 'URL') ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/content\/ua-profile\/.+\?expires=\d+&token=.+$/);

    const fetched = await http(t.httpPort, 'GET', url);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('application/octet-stream');
    expect(etagOf(fetched)).toBe(etag);
    expect(fetched.bytes.equals(doc)).toBe(true);

    const bare = url.slice(0, url.indexOf('?'));
    const without = await http(t.httpPort, 'GET', bare);
    expect(without.status).toBe(403);
    expect(without.json).toMatchObject({ field: 'token' });
    // Another token: its first character changed (to one it is not).
    const forgedUrl = url.replace(/token=(.)/, (_m, c: string) => `token=${c === 'A' ? 'B' : 'A'}`);
    expect(forgedUrl).not.toBe(url);
    const forged = await http(t.httpPort, 'GET', forgedUrl);
    expect(forged.status).toBe(403);
    const later = await http(
      t.httpPort,
      'GET',
      url.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 1}`),
    );
    expect(later.status).toBe(403);

    // A new version: a NOTIFY with a new URL; the old one no longer serves (the content was replaced).
    const v2 = binaryDocument(1_000_000, 12);
    expect((await upload(t.httpPort, aor, v2, 'application/octet-stream')).status).toBe(200);
    const update = await nextNotify(phone, notify!.callId!, 10_000);
    const url2 = headerParam(update.header('content-type'), 'URL') ?? '';
    expect(url2).not.toBe(url);
    expect((await http(t.httpPort, 'GET', url2)).bytes.equals(v2)).toBe(true);
    expect((await http(t.httpPort, 'GET', url)).status).toBe(404);
  });
});
