/**
 * Kamailio challenging PUBLISH and SUBSCRIBE (auth, auth_db): the challenge it sends and the answer it
 * accepts — 407 with MD5 as its stock configuration does, 401 with SHA-256 (RFC 8760). Requests from the
 * domain `secure.test` are challenged, others are not.
 */
import { REGINFO_CONTENT_TYPE } from '../../src/presence-reginfo/reginfo';
import { pidf, randomToken, SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { challengeParams, digestAuthorization } from './digest-answer';
import { startKamailio, type RunningKamailio } from './kamailio';

const DOMAIN = 'secure.test';
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
      kam = await startKamailio({
        authDomains: [DOMAIN],
        authAlgorithm: algorithm,
        authChallenge: style,
        subscribers: [{ ...ACCOUNT, domain: DOMAIN }],
      });
    });

    beforeEach(async () => {
      client = await SipTestClient.open({
        transport: 'udp',
        host: '127.0.0.1',
        port: kam.port,
        user: 'hub',
        domain: DOMAIN,
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
      expect(p.realm).toBe(DOMAIN);
      expect(p.qop).toMatch(/auth/);
      expect((p.algorithm ?? 'MD5').toUpperCase()).toBe(algorithm);
      return challenge;
    }

    it('answers a PUBLISH Event: reg with the challenge, then 200 to the same PUBLISH with credentials', async () => {
      const aor = `sip:hub@${DOMAIN}`;
      const body = `<?xml version="1.0"?>\n<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"/>`;
      const publish = (headers = {}): Promise<SipTestMessage> =>
        client.publish({ uri: aor, event: 'reg', expires: 60, body, contentType: REGINFO_CONTENT_TYPE, headers });
      const challenge = expectChallenge(await publish());
      const wrong = digestAuthorization(challenge, { ...ACCOUNT, password: 'nope' }, 'PUBLISH', aor);
      expect((await publish({ [answer]: wrong })).status).toBe(status);
      const res = await publish({ [answer]: digestAuthorization(challenge, ACCOUNT, 'PUBLISH', aor) });
      expect(res.status).toBe(200);
      expect(res.header('sip-etag')).toBeTruthy();
    });

    it('answers a SUBSCRIBE with the challenge, then 200 and a NOTIFY to the same SUBSCRIBE with credentials', async () => {
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
    });

    it('does not challenge another domain', async () => {
      const aor = `sip:open-${randomToken(3)}@kamailio.test`;
      const res = await client.publish({ uri: aor, event: 'presence', expires: 60, body: pidf(aor) });
      expect(res.status).toBe(200);
    });
  },
);
