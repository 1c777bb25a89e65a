/**
 * The Kamailio side alone, proved with raw SIP clients before any of our server is involved: its pua_reginfo
 * PUBLISHes registrations to its own presence_reginfo, which NOTIFYs reg watchers; presence_reginfo accepts
 * a reginfo document shaped like the one our reg package renders; presence_xml passes PIDF to watchers.
 */
import { parseReginfo, reginfoXml, REGINFO_CONTENT_TYPE } from '../../src/presence-reginfo/reginfo';
import { localRegistrationId } from '../../src/presence-reginfo/reginfo-local';
import { nextNotify, subscriptionState } from '../utils/presence-e2e';
import { randomToken, type SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { publishPidf, useInterop } from './interop-fixture';

const it_ = useInterop();

function uniqueAor(prefix: string): string {
  return it_.uniqueAor(prefix, it_.kam.domain).aor;
}

/** A watcher subscribed at Kamailio; resolves once the first NOTIFY (the state at subscription time) is in. */
async function watch(aor: string, event: 'reg' | 'presence'): Promise<{ watcher: SipTestClient; callId: string }> {
  const watcher = await it_.kamailioClient('watcher');
  const accept = event === 'reg' ? REGINFO_CONTENT_TYPE : 'application/pidf+xml';
  const { response, dialog } = await watcher.subscribe({ uri: aor, event, expires: 600, accept });
  expect(response.status).toBe(200);
  const first = await nextNotify(watcher, dialog.callId);
  expect(subscriptionState(first).state).toBe('active');
  return { watcher, callId: dialog.callId };
}

const withBody = (m: SipTestMessage): boolean => m.body !== '';

describe('Kamailio on its own', () => {
  it(
    'a REGISTER is published by its pua_reginfo to its presence_reginfo and NOTIFYed to a reg watcher',
    it_.traced(async () => {
      const { aor, user } = it_.uniqueAor('alice', it_.kam.domain);
      const { watcher, callId } = await watch(aor, 'reg');

      const phone = await it_.kamailioClient(user);
      expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
      const notify = await nextNotify(watcher, callId, 5000, withBody);
      expect(notify.header('content-type')).toBe(REGINFO_CONTENT_TYPE);
      const doc = parseReginfo(notify.body);
      expect(doc.registrations).toEqual([
        expect.objectContaining({
          aor,
          state: 'active',
          contacts: [
            expect.objectContaining({ uri: phone.contactUri(user), state: 'active', event: 'created', expires: 300 }),
          ],
        }),
      ]);

      expect((await phone.register({ aor, expires: 0 })).status).toBe(200);
      const gone = await nextNotify(watcher, callId, 5000, withBody);
      const after = parseReginfo(gone.body);
      expect(after.registrations[0]?.contacts).toEqual([
        expect.objectContaining({ uri: phone.contactUri(user), state: 'terminated', event: 'unregistered' }),
      ]);
    }),
  );

  it(
    'presence_reginfo takes a PUBLISH Event: reg of a document shaped like our reg package renders',
    it_.traced(async () => {
      const aor = uniqueAor('bob');
      const { watcher, callId } = await watch(aor, 'reg');
      const contact = `sip:bob@192.0.2.10:5070;transport=udp`;
      const body = reginfoXml({
        version: 0,
        state: 'full',
        registrations: [
          {
            aor,
            id: localRegistrationId(aor),
            state: 'active',
            contacts: [
              {
                id: 'c1a2b3',
                state: 'active',
                event: 'registered',
                uri: contact,
                expires: 600,
                durationRegistered: 0,
                callid: 'reg-1@192.0.2.10',
                cseq: 7,
                unknownParams: [{ name: '+sip.instance', value: '"<urn:uuid:00000000-0000-1000-8000-000000000001>"' }],
              },
            ],
          },
        ],
      });
      const publisher = await it_.kamailioClient('hub');
      const res = await publisher.publish({
        uri: aor,
        event: 'reg',
        expires: 600,
        body,
        contentType: REGINFO_CONTENT_TYPE,
      });
      expect(res.status).toBe(200);
      expect(res.header('sip-etag')).toBeTruthy();
      expect(res.header('expires')).toBe('600');

      const notify = await nextNotify(watcher, callId, 5000, withBody);
      const doc = parseReginfo(notify.body);
      expect(doc.registrations[0]?.contacts[0]).toEqual(expect.objectContaining({ uri: contact, state: 'active' }));

      const removed = await publisher.publish({
        uri: aor,
        event: 'reg',
        expires: 0,
        ifMatch: res.header('sip-etag'),
      });
      expect(removed.status).toBe(200);
    }),
  );

  it(
    'a PUBLISH of PIDF reaches a presence watcher',
    it_.traced(async () => {
      const aor = uniqueAor('carol');
      const { watcher, callId } = await watch(aor, 'presence');
      const publisher = await it_.kamailioClient('carol');
      const note = `interop ${randomToken(3)}`;
      const res = await publishPidf(publisher, aor, note);
      expect(res.status).toBe(200);
      const notify = await nextNotify(watcher, callId, 5000, (m) => m.body.includes(note));
      expect(notify.header('content-type')).toBe('application/pidf+xml');
      expect(notify.body).toMatch(/<basic>open<\/basic>/);
    }),
  );
});
