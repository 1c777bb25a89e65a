/**
 * The outgoing SIP client (the `pua` role) against a small test server over real UDP: PUBLISH and SUBSCRIBE
 * answered after digest challenges (SHA-256 and MD5), NOTIFYs routed to the owner by Call-ID and tags, a
 * NOTIFY of no dialog refused with 481, and publications and subscriptions resumed after a restart.
 */
import type { RunningApp } from '../../src/app.factory';
import { computeHa1, parseChallenge, parseCredentials, SipError, verifyResponse } from '../../src/sip';
import type { ClientNotify } from '../../src/sip';
import { SipClientService } from '../../src/sip-client/sip-client.service';
import { freePort, startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { SipTestClient, type SipTestMessage } from '../utils/sip-test-client';

const CREDS = { username: 'hub', password: 'hub-secret' };

/** Checks an Authorization / Proxy-Authorization value against the challenge it answers. */
function expectValidDigest(req: SipTestMessage, header: string, challenge: string): void {
  const value = req.header(header);
  expect(value).toBeDefined();
  const creds = parseCredentials(value!)!;
  const c = parseChallenge(challenge)!;
  expect(creds).toMatchObject({ username: CREDS.username, realm: c.realm, nonce: c.nonce, algorithm: c.algorithm });
  expect(verifyResponse(creds, req.method!, computeHa1(c.algorithm, CREDS.username, c.realm, CREDS.password))).toBe(
    true,
  );
}

describe.each(databaseKinds())('outgoing SIP client over UDP on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp | undefined;
  let server: SipTestClient;
  const notifies: ClientNotify[] = [];

  let sipPort = 0;
  const env = () => ({
    SIP_PORT: String(sipPort),
    SIP_CLIENT_CREDENTIALS: `${CREDS.username}:${CREDS.password}@test.example`,
    SIP_TCP: 'false',
  });
  const start = async (): Promise<SipClientService> => {
    app = await startTestApp(db, env());
    const client = app.app.get(SipClientService);
    client.onNotify('test', (n) => {
      if (n.body.includes('bad')) throw new SipError(400, 'Bad Request (bad document)');
      notifies.push(n);
    });
    return client;
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // The test server's requests and answers go to the app's port, which stays the same across the restart.
    sipPort = await freePort();
    server = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: sipPort, retransmit: false });
  });

  afterAll(async () => {
    await app?.close();
    await server.close();
    await db.drop();
  });

  it('publishes after a SHA-256 challenge, subscribes after an MD5 proxy challenge, takes NOTIFYs, resumes after a restart', async () => {
    let client = await start();
    const target = `sip:alice@127.0.0.1:${server.localPort}`;
    const www = 'Digest realm="test.example", nonce="n-pub", qop="auth", algorithm=SHA-256';
    const proxy = 'Digest realm="test.example", nonce="n-sub", algorithm=MD5';

    // PUBLISH: 401, then the answer checked and 200 with an entity tag.
    const published = client.publish({
      owner: 'test',
      key: 'alice',
      uri: target,
      from: 'sip:hub@test.example',
      event: 'reg',
      contentType: 'application/reginfo+xml',
      body: '<reginfo/>',
      expires: 300,
    });
    const p1 = await server.waitForRequest((m) => m.method === 'PUBLISH');
    expect(p1.body).toBe('<reginfo/>');
    expect(p1.header('sip-if-match')).toBeUndefined();
    server.respond(p1, 401, { headers: { 'WWW-Authenticate': www } });
    const p2 = await server.waitForRequest((m) => m.method === 'PUBLISH' && !m.retransmission);
    expectValidDigest(p2, 'authorization', www);
    expect(p2.cseq!.seq).toBe(p1.cseq!.seq + 1);
    server.respond(p2, 200, { headers: { 'SIP-ETag': 'etag-1', Expires: 300 } });
    expect(await published).toMatchObject({ state: 'active', etag: 'etag-1', lastStatus: 200 });

    // SUBSCRIBE: 407, then 200 creating the dialog; a NOTIFY in it reaches the owner.
    const subscribed = client.subscribe({
      owner: 'test',
      key: 'bob',
      uri: `sip:bob@127.0.0.1:${server.localPort}`,
      from: 'sip:hub@test.example',
      event: 'reg',
      expires: 600,
      options: { accept: ['application/reginfo+xml'] },
    });
    const s1 = await server.waitForRequest((m) => m.method === 'SUBSCRIBE');
    expect(s1.header('accept')).toBe('application/reginfo+xml');
    server.respond(s1, 407, { headers: { 'Proxy-Authenticate': proxy } });
    const s2 = await server.waitForRequest((m) => m.method === 'SUBSCRIBE' && !m.retransmission);
    expectValidDigest(s2, 'proxy-authorization', proxy);
    server.respond(s2, 200, {
      toTag: 'notifier',
      headers: { Expires: 600, Contact: `<sip:bob@127.0.0.1:${server.localPort}>` },
    });
    const sub = await subscribed;
    expect(sub).toMatchObject({ state: 'active', dialog: { remoteTag: 'notifier' } });
    const contact = s2.header('contact')!.replace(/^<|>.*$/g, '');
    const notify = (cseq: number, state: string, body: string, callId = s2.callId!) =>
      server.request({
        method: 'NOTIFY',
        uri: contact,
        callId,
        fromTag: 'notifier',
        cseq,
        from: `sip:bob@127.0.0.1:${server.localPort}`,
        headers: {
          To: s2.header('from')!,
          Event: 'reg',
          'Subscription-State': state,
          'Content-Type': 'application/reginfo+xml',
        },
        body,
      });
    expect((await notify(1, 'active;expires=600', '<reginfo version="0"/>')).status).toBe(200);
    expect(notifies.map((n) => n.body)).toEqual(['<reginfo version="0"/>']);
    // The owner refuses a document: its status goes back, the subscription stays.
    const refused = await notify(2, 'active;expires=600', 'bad');
    expect([refused.status, refused.reason]).toEqual([400, 'Bad Request (bad document)']);
    expect(client.get('subscribe', 'test', 'bob')?.state).toBe('active');
    // A NOTIFY of no dialog of ours.
    const stray = await notify(1, 'active', '<x/>', 'no-such-call');
    expect([stray.status, stray.reason]).toEqual([481, 'Unable to handle notification']);

    // Restart: the publication is refreshed with its entity tag, the subscription in its dialog.
    await app!.close();
    client = await start();
    const refresh = await server.waitForRequest((m) => m.method === 'PUBLISH' && !m.retransmission, 10_000);
    expect(refresh.header('sip-if-match')).toBe('etag-1');
    expect(refresh.body).toBe('');
    server.respond(refresh, 200, { headers: { 'SIP-ETag': 'etag-2', Expires: 300 } });
    const resub = await server.waitForRequest((m) => m.method === 'SUBSCRIBE' && !m.retransmission, 10_000);
    expect(resub.callId).toBe(s2.callId);
    expect(resub.toTag).toBe('notifier');
    expect(resub.cseq!.seq).toBeGreaterThan(s2.cseq!.seq);
    server.respond(resub, 200, { headers: { Expires: 600, Contact: `<sip:bob@127.0.0.1:${server.localPort}>` } });
    expect((await notify(3, 'active;expires=600', '<reginfo version="1"/>')).status).toBe(200);

    // Unsubscribe: Expires 0 in the dialog, then the terminating NOTIFY is still taken.
    const ending = client.unsubscribe('test', 'bob');
    const bye = await server.waitForRequest((m) => m.method === 'SUBSCRIBE' && m.header('expires') === '0');
    expect(bye.toTag).toBe('notifier');
    server.respond(bye, 200, { headers: { Expires: 0 } });
    expect(await ending).toBe(true);
    expect((await notify(4, 'terminated;reason=timeout', '')).status).toBe(200);
    // Unpublish: Expires 0 with the current entity tag.
    const unpublished = client.unpublish('test', 'alice');
    const remove = await server.waitForRequest((m) => m.method === 'PUBLISH' && m.header('expires') === '0');
    expect(remove.header('sip-if-match')).toBe('etag-2');
    server.respond(remove, 200, { headers: { Expires: 0 } });
    expect(await unpublished).toBe(true);
    expect(client.list('publish', 'test')).toEqual([]);
  });

  it.each([
    [401, 'MD5'],
    [401, 'SHA-256'],
    [407, 'MD5'],
    [407, 'SHA-256'],
  ] as const)('answers a %i challenge with %s to PUBLISH and to SUBSCRIBE', async (status, algorithm) => {
    const client = app ? app.app.get(SipClientService) : await start();
    const key = `${status}-${algorithm}`;
    const challenge = `Digest realm="test.example", nonce="n-${key}", qop="auth", algorithm=${algorithm}`;
    const [ask, answer] =
      status === 401 ? ['WWW-Authenticate', 'authorization'] : ['Proxy-Authenticate', 'proxy-authorization'];
    const target = `sip:${key}@127.0.0.1:${server.localPort}`;
    const published = client.publish({
      owner: 'test',
      key,
      uri: target,
      event: 'presence',
      contentType: 'application/pidf+xml',
      body: '<presence/>',
      expires: 60,
    });
    const p1 = await server.waitForRequest((m) => m.method === 'PUBLISH' && m.uri === target);
    server.respond(p1, status, { headers: { [ask]: challenge } });
    const p2 = await server.waitForRequest((m) => m.method === 'PUBLISH' && m.uri === target && !m.retransmission);
    expectValidDigest(p2, answer, challenge);
    server.respond(p2, 200, { headers: { 'SIP-ETag': key, Expires: 60 } });
    expect((await published).state).toBe('active');

    const subscribed = client.subscribe({
      owner: 'test',
      key,
      uri: target,
      from: 'sip:hub@test.example',
      event: 'presence',
      expires: 60,
    });
    const s1 = await server.waitForRequest((m) => m.method === 'SUBSCRIBE' && m.uri === target);
    server.respond(s1, status, { headers: { [ask]: challenge } });
    const s2 = await server.waitForRequest((m) => m.method === 'SUBSCRIBE' && m.uri === target && !m.retransmission);
    expectValidDigest(s2, answer, challenge);
    server.respond(s2, 200, { toTag: 'n', headers: { Expires: 60, Contact: `<${target}>` } });
    expect((await subscribed).state).toBe('active');
  });
});
