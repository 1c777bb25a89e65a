/**
 * Issue scope "interop with a real Kamailio" of PuaReginfoModule: (a) our registrar PUBLISHes reginfo to
 * Kamailio's presence_reginfo and a watcher subscribed at Kamailio receives our contact; (b) we subscribe to
 * reginfo at Kamailio, whose pua_reginfo publishes its own registrations, and they appear in (and leave) our
 * location table. Each also with Kamailio challenging our PUBLISH and SUBSCRIBE (digest).
 */
import { parseReginfo, REGINFO_CONTENT_TYPE, type Reginfo } from '../../src/presence-reginfo/reginfo';
import { api, pollUntil, registrationPath } from '../utils/e2e-helpers';
import { nextNotify } from '../utils/presence-e2e';
import { randomToken, type SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { sendWithCredentials } from './digest-answer';
import { expectStatus } from './hub';
import {
  challengingKamailio,
  KAMAILIO_ACCOUNT as ACCOUNT,
  OPEN_KAMAILIO,
  useInterop,
  type KamailioCase,
} from './interop-fixture';
import { loggedCallId, notifyAnswered } from './kamailio';

const CASES: readonly KamailioCase[] = [
  OPEN_KAMAILIO,
  challengingKamailio('MD5', 'proxy'),
  challengingKamailio('SHA-256', 'www'),
];

/** Contacts of a reginfo document that are active, by URI. */
function activeUris(doc: Reginfo): string[] {
  return doc.registrations.flatMap((r) => r.contacts.filter((c) => c.state === 'active').map((c) => c.uri));
}

describe.each(CASES)('PuaReginfoModule against $name', ({ kamailio, env }) => {
  const it_ = useInterop({
    kamailio,
    hub: (kam, sipPort) => ({
      PUA_REGINFO_OUTBOUND_PROXY: kam.uri,
      PUA_REGINFO_SERVER_ADDRESS: `sip:hub@127.0.0.1:${sipPort}`,
      PUA_REGINFO_DEFAULT_DOMAIN: 'hub.test',
      ...env,
    }),
  });

  /** A watcher at Kamailio: with credentials when Kamailio challenges. */
  async function watchAtKamailio(aor: string): Promise<{ watcher: SipTestClient; callId: string }> {
    const watcher = await it_.kamailioClient('watcher');
    const { response, dialog } = await sendWithCredentials(
      (headers) => watcher.subscribe({ uri: aor, event: 'reg', expires: 600, headers }),
      (r) => r.response,
      ACCOUNT,
      'SUBSCRIBE',
      aor,
    );
    expect(response.status).toBe(200);
    await nextNotify(watcher, dialog.callId);
    return { watcher, callId: dialog.callId };
  }

  it(
    'a REGISTER at our registrar is PUBLISHed to Kamailio; a reg watcher there gets our contact, then its removal',
    it_.traced(async () => {
      const user = `dave-${randomToken(3)}`;
      const aor = `sip:${user}@hub.test`;
      const { watcher, callId } = await watchAtKamailio(aor);
      const phone = await it_.client(it_.hub.sipPort, user, 'hub.test');
      const contact = phone.contactUri(user);
      expect((await phone.register({ aor, expires: 300 })).status).toBe(200);

      const withContact = (m: SipTestMessage): boolean => m.body !== '' && m.body.includes(contact);
      const notify = await nextNotify(watcher, callId, 10_000, withContact);
      expect(notify.header('content-type')).toBe(REGINFO_CONTENT_TYPE);
      const doc = parseReginfo(notify.body);
      expect(doc.registrations.map((r) => r.aor)).toContain(aor);
      expect(activeUris(doc)).toEqual([contact]);

      expect((await phone.register({ aor, expires: 0 })).status).toBe(200);
      // As Kamailio's own pua_reginfo does, the ended contact is published (state terminated) rather than the
      // publication removed: a watcher there learns that it went, not just that no state is left.
      const removed = await nextNotify(
        watcher,
        callId,
        10_000,
        (m) => withContact(m) && !activeUris(parseReginfo(m.body)).includes(contact),
      );
      expect(removed.header('content-type')).toBe(REGINFO_CONTENT_TYPE);
      const ended = parseReginfo(removed.body).registrations.flatMap((r) => r.contacts);
      expect(ended).toEqual([expect.objectContaining({ uri: contact, state: 'terminated', event: 'unregistered' })]);
    }),
  );

  it(
    'we subscribe to reginfo at Kamailio: a REGISTER there appears in our location table and leaves it on unregister',
    it_.traced(async () => {
      const user = `erin-${randomToken(3)}`;
      const aor = `sip:${user}@${it_.kam.domain}`;
      const logFrom = it_.kam.log().length;
      const created = await api(it_.hub.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: aor, expires: 600 });
      expectStatus(created, 201);
      // Kamailio's first NOTIFY has no body (nothing published yet): answered 200, not 400.
      const subscribed = await it_.kam.waitForLog(
        new RegExp(`SUBSCRIBE \\S+\\} .*interop: in SUBSCRIBE sip:${user}@`),
        10_000,
        logFrom,
      );
      const answer = await it_.kam.waitForLog(notifyAnswered(loggedCallId(subscribed)), 10_000, logFrom);
      expect(answer).toMatch(/interop: reply 200 OK to NOTIFY/);

      const phone = await it_.kamailioClient(user);
      const contact = phone.contactUri(user);
      expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
      const seen = await pollUntil(
        async () => {
          const res = await api(it_.hub.httpPort, 'GET', registrationPath(aor));
          return res.status === 200 && JSON.stringify(res.json).includes(contact) ? res.json : undefined;
        },
        10_000,
        `${aor} in our location table`,
      );
      expect(seen.aor).toBe(aor);

      expect((await phone.register({ aor, expires: 0 })).status).toBe(200);
      await pollUntil(
        async () => {
          const res = await api(it_.hub.httpPort, 'GET', registrationPath(aor));
          return res.status === 404 || !JSON.stringify(res.json).includes(contact) ? true : undefined;
        },
        10_000,
        `${aor} gone from our location table`,
      );

      const listed = await api(it_.hub.httpPort, 'GET', '/api/reginfo/subscriptions');
      expectStatus(listed, 200);
      expect(listed.text).toContain(aor);
    }),
  );

  it(
    'a malformed reginfo that Kamailio passes on unchecked is answered 400 and changes nothing here',
    it_.traced(async () => {
      const user = `fay-${randomToken(3)}`;
      const aor = `sip:${user}@${it_.kam.domain}`;
      expectStatus(await api(it_.hub.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: aor, expires: 600 }), 201);
      await it_.kam.waitForLog(new RegExp(`interop: in SUBSCRIBE sip:${user}@`), 10_000);
      const phone = await it_.kamailioClient(user);
      const contact = phone.contactUri(user);
      expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
      await pollUntil(
        async () => {
          const res = await api(it_.hub.httpPort, 'GET', registrationPath(aor));
          return res.status === 200 && res.text.includes(contact) ? true : undefined;
        },
        10_000,
        `${aor} in our location table`,
      );

      // presence_reginfo does not read what it is given: another publisher's broken document reaches us.
      const from = it_.kam.log().length;
      const published = await sendWithCredentials(
        (headers) =>
          phone.publish({
            uri: aor,
            event: 'reg',
            expires: 60,
            body: '<reginfo',
            contentType: REGINFO_CONTENT_TYPE,
            headers,
          }),
        (r) => r,
        ACCOUNT,
        'PUBLISH',
        aor,
      );
      expect(published.status).toBe(200);
      // Our answer to the NOTIFY that carries it (earlier NOTIFYs were answered 200).
      const answer = await it_.kam.waitForLog(/interop: reply 400 .* to NOTIFY/, 10_000, from);
      expect(answer).toMatch(/reply 400 Bad reginfo/);
      const res = await api(it_.hub.httpPort, 'GET', registrationPath(aor));
      expect(res.status).toBe(200);
      expect(res.text).toContain(contact);
    }),
  );
});
