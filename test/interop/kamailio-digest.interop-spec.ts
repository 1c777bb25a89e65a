/**
 * Kamailio challenging PUBLISH and SUBSCRIBE (auth, auth_db): the challenge it sends and the answer it
 * accepts — 407 with MD5 as its stock configuration does, 401 with SHA-256 (RFC 8760). Every PUBLISH and
 * SUBSCRIBE is challenged except what Kamailio sends itself (its pua_reginfo PUBLISHing registrations).
 */
import { REGINFO_CONTENT_TYPE } from '../../src/presence-reginfo/reginfo';
import { randomToken, SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { challengeParams, digestAuthorization } from './digest-answer';
import { startKamailio, traced, type RunningKamailio } from './kamailio';

const REALM = 'secure.test';
const ACCOUNT = { username: 'hub', password: 'interop-secret' };

const CASES = [
  { algorithm: 'MD5', challenge: 'proxy', status: 407, header: 'proxy-authenticate', answer: 'Proxy-Authorization' },
  { algorithm: 'SHA-256', challenge: 'www', status: 401, header: 'www-authenticate', answer: 'Authorization' },
] as const;

describe.each(CASES)(
  'Kamailio challenging with $status and $algorithm',
  ({ algorithm, challenge: style, status, header, answer }) => {
    let kam: RunningKamailio;
    let client: SipTestClient;

    beforeAll(async () => {
      kam = await startKamailio({ auth: { realm: REALM, algorithm, challenge: style, accounts: [ACCOUNT] } });
    });

    beforeEach(async () => {
      client = await SipTestClient.open({
        transport: 'udp',
        host: '127.0.0.1',
        port: kam.port,
        user: 'hub',
        domain: 'hub.test',
      });
      client.autoAnswer('NOTIFY', 200);
    });

    afterEach(async () => {
      await client.close();
    });

    afterAll(async () => {
      await kam?.stop();
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

    it(
      'answers a PUBLISH Event: reg with the challenge, then 200 to the same PUBLISH with credentials',
      traced(
        () => kam,
        async () => {
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
        },
      ),
    );

    it(
      'answers a SUBSCRIBE with the challenge, then 200 and a NOTIFY to the same SUBSCRIBE with credentials',
      traced(
        () => kam,
        async () => {
          const presentity = `sip:someone-${randomToken(3)}@kamailio.test`;
          const first = await client.subscribe({ uri: presentity, event: 'presence', expires: 60 });
          const challenge = expectChallenge(first.response);
          const authorization = digestAuthorization(challenge, ACCOUNT, 'SUBSCRIBE', presentity);
          const { response, dialog } = await client.subscribe({
            uri: presentity,
            event: 'presence',
            expires: 60,
            headers: { [answer]: authorization },
          });
          expect(response.status).toBe(200);
          await client.waitForRequest((m) => m.method === 'NOTIFY' && m.callId === dialog.callId);
        },
      ),
    );

    it(
      'does not challenge its own pua_reginfo: a REGISTER still reaches an authenticated reg watcher',
      traced(
        () => kam,
        async () => {
          const aor = `sip:frank-${randomToken(3)}@${kam.domain}`;
          const first = await client.subscribe({ uri: aor, event: 'reg', expires: 60 });
          const authorization = digestAuthorization(expectChallenge(first.response), ACCOUNT, 'SUBSCRIBE', aor);
          const { response, dialog } = await client.subscribe({
            uri: aor,
            event: 'reg',
            expires: 60,
            headers: { [answer]: authorization },
          });
          expect(response.status).toBe(200);
          const contact = client.contactUri('frank');
          expect((await client.register({ aor, contact: `<${contact}>`, expires: 60 })).status).toBe(200);
          const notify = await client.waitForRequest(
            (m) => m.method === 'NOTIFY' && m.callId === dialog.callId && m.body.includes(contact),
          );
          expect(notify.header('content-type')).toBe(REGINFO_CONTENT_TYPE);
        },
      ),
    );
  },
);
