/**
 * Issue 15, PUBLISH Event: ua-profile from a trusted provisioning source (presenceProfile.trustedPublishers)
 * stores a document as a REST upload would, with entity tags as for presence; other sources get 403.
 */
import { nextNotify, uniqueAor } from '../utils/presence-e2e';
import {
  etagOf,
  http,
  profilePath,
  subscribeProfile,
  startProfileApp,
  type ProfileTestApp,
} from '../utils/profile-e2e';
import type { SipTestClient, SipTestMessage } from '../utils/sip-test-client';
import { databaseKinds } from '../utils/test-database';

const PROVISIONING = 'sip:prov@provisioning.example.com';
const ENV = { PRESENCE_PROFILE_TRUSTED_PUBLISHERS: `${PROVISIONING},ops.example.net` };

/** PUBLISH Event: ua-profile for `aor` from `from` (a provisioning source, trusted or not). */
function publish(
  c: SipTestClient,
  aor: string,
  from: string,
  opts: { body?: string; ifMatch?: string; expires?: number } = {},
): Promise<SipTestMessage> {
  return c.request({
    method: 'PUBLISH',
    uri: aor,
    from,
    headers: {
      Event: 'ua-profile;profile-type=device;vendor="acme"',
      ...(opts.body !== undefined && { 'Content-Type': 'application/xml' }),
      ...(opts.ifMatch !== undefined && { 'SIP-If-Match': opts.ifMatch }),
      ...(opts.expires !== undefined && { Expires: opts.expires }),
    },
    ...(opts.body !== undefined && { body: opts.body }),
  });
}

describe.each(databaseKinds())('ua-profile PUBLISH on %s', (kind) => {
  let t: ProfileTestApp;

  beforeAll(async () => {
    t = await startProfileApp(kind, ENV);
  });

  afterAll(() => t.close());

  it('stores a trusted source’s document, guards it with entity tags and removes it; others get 403', async () => {
    const aor = uniqueAor('mac');
    const source = await t.client();
    const phone = await t.client();
    const sub = await subscribeProfile(phone, aor, { 'profile-type': 'device', vendor: 'acme' });
    expect(sub.notify?.bodyBytes.length).toBe(0);

    const first = await publish(source, aor, PROVISIONING, { body: '<cfg>1</cfg>' });
    expect(first.status).toBe(200);
    const etag1 = first.header('sip-etag')!;
    expect((await nextNotify(phone, sub.dialog.callId)).body).toBe('<cfg>1</cfg>');
    const rest = await http(t.httpPort, 'GET', profilePath(aor, { profileType: 'device', vendor: 'acme' }));
    expect(rest.bytes.toString()).toBe('<cfg>1</cfg>');
    expect(etagOf(rest)).toBe(etag1);

    const second = await publish(source, aor, 'sip:robot@ops.example.net', { body: '<cfg>2</cfg>', ifMatch: etag1 });
    expect(second.status).toBe(200);
    const etag2 = second.header('sip-etag')!;
    expect(etag2).not.toBe(etag1);
    expect((await nextNotify(phone, sub.dialog.callId)).body).toBe('<cfg>2</cfg>');
    expect((await publish(source, aor, PROVISIONING, { body: '<cfg>3</cfg>', ifMatch: etag1 })).status).toBe(412);
    const refresh = await publish(source, aor, PROVISIONING, { ifMatch: etag2, expires: 600 });
    expect(refresh).toMatchObject({ status: 200 });
    expect(refresh.header('sip-etag')).toBe(etag2);

    expect((await publish(source, aor, 'sip:mallory@example.com', { body: '<evil/>' })).status).toBe(403);

    expect((await publish(source, aor, PROVISIONING, { ifMatch: etag2, expires: 0 })).status).toBe(200);
    expect((await nextNotify(phone, sub.dialog.callId)).bodyBytes.length).toBe(0);
    expect((await http(t.httpPort, 'GET', profilePath(aor, { profileType: 'device', vendor: 'acme' }))).status).toBe(
      404,
    );
  });
});
