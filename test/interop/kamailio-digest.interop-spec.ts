/**
 * Kamailio challenging PUBLISH and SUBSCRIBE (auth, auth_db): the challenge it sends and the answer it
 * accepts — 407 with MD5 as its stock configuration does, 401 with SHA-256 (RFC 8760). Every PUBLISH and
 * SUBSCRIBE is challenged except what Kamailio sends itself (its pua_reginfo PUBLISHing registrations).
 */
import { REGINFO_CONTENT_TYPE } from '../../src/presence-reginfo/reginfo';
import { randomToken, type SipTestClient, type SipTestDialog, type SipTestMessage } from '../utils/sip-test-client';
import { challengeParams, digestAuthorization } from './digest-answer';
import {
  challengingKamailio,
  KAMAILIO_ACCOUNT as ACCOUNT,
  KAMAILIO_REALM as REALM,
  useInterop,
} from './interop-fixture';

const CASES = [
  { algorithm: 'MD5', challenge: 'proxy', status: 407, header: 'proxy-authenticate', answer: 'Proxy-Authorization' },
  { algorithm: 'SHA-256', challenge: 'www', status: 401, header: 'www-authenticate', answer: 'Authorization' },
] as const;

describe.each(CASES)(
  'Kamailio challenging with $status and $algorithm',
  ({ algorithm, challenge: style, status, header, answer }) => {
    const it_ = useInterop({ kamailio: challengingKamailio(algorithm, style).kamailio });
    let client: SipTestClient;

    beforeEach(async () => {
      client = await it_.client(it_.kam.port, 'hub', 'hub.test');
    });

    function expectChallenge(res: SipTestMessage): string {
      expect(res.status).toBe(status);
      const challenge = res.header(header) ?? '';
      const p = challengeParams(challenge);
      expect(p.realm).toBe(REALM);
      expect(p.qop).toMatch(/auth/);
      expect((p.algorithm ?? 'MD5').toUpperCase()).toBe(algorithm);
      return challenge;
    }

    /** A SUBSCRIBE that is challenged, then sent again with the answer. */
    async function subscribeAnswering(
      uri: string,
      event: string,
    ): Promise<{ response: SipTestMessage; dialog: SipTestDialog }> {
      const first = await client.subscribe({ uri, event, expires: 60 });
      const authorization = digestAuthorization(expectChallenge(first.response), ACCOUNT, 'SUBSCRIBE', uri);
      return client.subscribe({ uri, event, expires: 60, headers: { [answer]: authorization } });
    }

    it(
      'answers a PUBLISH Event: reg with the challenge, then 200 to the same PUBLISH with credentials',
      it_.traced(async () => {
        const aor = `sip:hub-${randomToken(3)}@hub.test`;
        const body = `<?xml version="1.0"?>\n<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"/>`;
        const publish = (headers = {}): Promise<SipTestMessage> =>
          client.publish({ uri: aor, event: 'reg', expires: 60, body, contentType: REGINFO_CONTENT_TYPE, headers });
        const challenge = expectChallenge(await publish());
        const wrong = digestAuthorization(challenge, { ...ACCOUNT, password: 'nope' }, 'PUBLISH', aor);
        expect((await publish({ [answer]: wrong })).status).toBe(status);
        const res = await publish({ [answer]: digestAuthorization(challenge, ACCOUNT, 'PUBLISH', aor) });
        expect(res.status).toBe(200);
        expect(res.header('sip-etag')).toBeTruthy();
      }),
    );

    it(
      'answers a SUBSCRIBE with the challenge, then 200 and a NOTIFY to the same SUBSCRIBE with credentials',
      it_.traced(async () => {
        const presentity = `sip:someone-${randomToken(3)}@kamailio.test`;
        const { response, dialog } = await subscribeAnswering(presentity, 'presence');
        expect(response.status).toBe(200);
        await client.waitForRequest((m) => m.method === 'NOTIFY' && m.callId === dialog.callId);
      }),
    );

    it(
      'does not challenge its own pua_reginfo: a REGISTER still reaches an authenticated reg watcher',
      it_.traced(async () => {
        const aor = `sip:frank-${randomToken(3)}@${it_.kam.domain}`;
        const { response, dialog } = await subscribeAnswering(aor, 'reg');
        expect(response.status).toBe(200);
        const contact = client.contactUri('frank');
        expect((await client.register({ aor, contact: `<${contact}>`, expires: 60 })).status).toBe(200);
        const notify = await client.waitForRequest(
          (m) => m.method === 'NOTIFY' && m.callId === dialog.callId && m.body.includes(contact),
        );
        expect(notify.header('content-type')).toBe(REGINFO_CONTENT_TYPE);
      }),
    );
  },
);
