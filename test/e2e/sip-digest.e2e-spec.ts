/**
 * SIP digest authentication (RFC 3261 §22, RFC 8760) with auth.enabled: REGISTER, PUBLISH and SUBSCRIBE
 * without or with wrong credentials are challenged again, a replayed nonce-count is refused, a nonce issued
 * before a restart is still accepted, and the authenticated user — not From — is who may register, publish
 * and watch.
 */
import type { RunningApp } from '../../src/app.factory';
import { SipDigestService } from '../../src/auth/sip-digest.service';
import { adminApi, answer, challengesOf, createUser, withDigest, type TestUser } from '../utils/digest-e2e';
import { registrationPath } from '../utils/e2e-helpers';
import { pidf, randomToken, SipTestClient, type HeaderInput } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

const AUTH = { AUTH_ENABLED: 'true' };

describe.each(databaseKinds())('SIP digest authentication on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let client: SipTestClient;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, AUTH);
    client = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp });
    alice = await createUser(app, `alice${randomToken(3)}`, 'example.com', 'Alice-pw1');
    bob = await createUser(app, `bob${randomToken(3)}`, 'example.com', 'Bob-pw1');
  });

  afterAll(async () => {
    await client.close();
    await app.close();
    await db.drop();
  });

  const failures = (): SipDigestService['failures'] => app.app.get(SipDigestService).failures;
  const register = (aor: string, headers: HeaderInput, contact?: string, expires = 300) =>
    client.register({ aor, headers, expires, ...(contact !== undefined && { contact }) });

  it('keeps only HA1s: the API shows no password or hash, refuses a duplicate and names a bad field', async () => {
    const got = await adminApi(app, 'GET', `/api/subscribers/${alice.id}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(
      expect.objectContaining({
        username: alice.username,
        domain: 'example.com',
        realm: 'example.com',
        aor: alice.aor,
      }),
    );
    expect(got.text).not.toMatch(/ha1|Alice-pw1/i);
    const dup = await adminApi(app, 'POST', '/api/subscribers', {
      username: alice.username,
      domain: 'example.com',
      password: 'x',
    });
    expect(dup.status).toBe(409);
    const bad = await adminApi(app, 'POST', '/api/subscribers', {
      username: 'a b',
      domain: 'example.com',
      password: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/^username must be/);
    const extra = await adminApi(app, 'POST', '/api/subscribers', {
      username: 'c',
      domain: 'example.com',
      password: 'x',
      ha1: 'y',
    });
    expect(extra.status).toBe(400);
    expect(extra.json.message).toMatch(/^ha1 is not a field/);
  });

  it('challenges REGISTER with 401, SHA-256 first then MD5, qop=auth; accepts either answer', async () => {
    const first = await register(alice.aor, {});
    expect(first.status).toBe(401);
    const challenges = challengesOf(first);
    expect(challenges.map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(challenges.every((c) => c.realm === 'example.com' && c.qop.includes('auth'))).toBe(true);
    for (const algorithm of ['SHA-256', 'MD5'] as const) {
      const res = await withDigest((h) => register(alice.aor, h), alice, 'REGISTER', 'sip:example.com', algorithm);
      expect(res.status).toBe(200);
    }
    const reg = await adminApi(app, 'GET', registrationPath(alice.aor));
    expect(reg.status).toBe(200);
  });

  it('refuses a wrong password or an unknown user with a new challenge, and counts and logs each', async () => {
    const before = failures().forSource('127.0.0.1');
    const wrong = await withDigest(
      (h) => register(alice.aor, h),
      { ...alice, password: 'nope' },
      'REGISTER',
      'sip:example.com',
    );
    expect(wrong.status).toBe(401);
    expect(wrong.reason).toBe('Unauthorized (credentials refused)');
    expect(challengesOf(wrong)).toHaveLength(2);
    const ghost = await withDigest(
      (h) => register('sip:ghost@example.com', h),
      { username: 'ghost', password: 'x' },
      'REGISTER',
      'sip:example.com',
    );
    expect(ghost.status).toBe(401);
    expect(failures().forSource('127.0.0.1')).toBe(before + 2);
    expect(failures().forUser(`${alice.username}@example.com`)).toBeGreaterThanOrEqual(1);
    expect(failures().forUser('ghost@example.com')).toBe(1);
  });

  it('refuses a replayed nonce-count and takes the next one', async () => {
    const first = await register(alice.aor, {});
    const a1 = answer(first, alice, 'REGISTER', 'sip:example.com');
    expect((await register(alice.aor, { [a1.header]: a1.value })).status).toBe(200);
    const replay = await register(alice.aor, { [a1.header]: a1.value });
    expect(replay.status).toBe(401);
    expect(replay.reason).toBe('Unauthorized (nonce-count reused)');
    const a2 = answer(first, alice, 'REGISTER', 'sip:example.com', { nc: 2 });
    expect((await register(alice.aor, { [a2.header]: a2.value })).status).toBe(200);
  });

  it('refuses a nonce it did not issue and credentials without qop', async () => {
    const first = await register(alice.aor, {});
    const forged = answer(first, alice, 'REGISTER', 'sip:example.com');
    const other = forged.value.replace(/nonce="[^"]+"/, 'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"');
    const res = await register(alice.aor, { Authorization: other });
    expect(res.status).toBe(401);
    expect(res.reason).toBe('Unauthorized (nonce not issued here)');
    const malformed = await register(alice.aor, { Authorization: 'Digest username="x", realm="example.com"' });
    expect(malformed.status).toBe(400);
    expect(malformed.reason).toBe('Bad Request (Digest credentials without nonce)');
  });

  it("refuses registering another user's AoR (403), and Contact: * by anyone but the AoR itself", async () => {
    const asAlice = (h: HeaderInput) => register(bob.aor, h);
    const other = await withDigest(asAlice, alice, 'REGISTER', 'sip:example.com');
    expect(other.status).toBe(403);
    expect(other.reason).toBe(`Forbidden (${alice.aor} may register only its own AoR)`);
    expect((await withDigest((h) => register(bob.aor, h), bob, 'REGISTER', 'sip:example.com')).status).toBe(200);
    const wipe = await withDigest((h) => register(bob.aor, h, '*', 0), alice, 'REGISTER', 'sip:example.com');
    expect(wipe.status).toBe(403);
    expect(wipe.reason).toBe('Forbidden (Contact: * only by the AoR itself)');
    expect((await adminApi(app, 'GET', registrationPath(bob.aor))).status).toBe(200);
    const own = await withDigest((h) => register(bob.aor, h, '*', 0), bob, 'REGISTER', 'sip:example.com');
    expect(own.status).toBe(200);
  });

  it('challenges PUBLISH with 407; publishes its own presence, not another user’s', async () => {
    const publish = (uri: string, from: string, headers: HeaderInput) =>
      client.request({
        method: 'PUBLISH',
        uri,
        from,
        headers: { Event: 'presence', Expires: 60, 'Content-Type': 'application/pidf+xml', Contact: [], ...headers },
        body: pidf(uri, 'open'),
      });
    const none = await publish(alice.aor, alice.aor, {});
    expect(none.status).toBe(407);
    expect(challengesOf(none).map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
    const wrong = await withDigest(
      (h) => publish(alice.aor, alice.aor, h),
      { ...alice, password: 'x' },
      'PUBLISH',
      alice.aor,
    );
    expect(wrong.status).toBe(407);
    const own = await withDigest((h) => publish(alice.aor, alice.aor, h), alice, 'PUBLISH', alice.aor);
    expect(own.status).toBe(200);
    // From says bob, but the credentials are alice's: the identity is alice, who may not publish bob's state.
    const forged = await withDigest((h) => publish(bob.aor, bob.aor, h), { ...alice }, 'PUBLISH', bob.aor);
    expect(forged.status).toBe(403);
    expect(forged.reason).toBe(`Forbidden (${alice.aor} may publish only its own presence state)`);
    const asAlice = await withDigest((h) => publish(bob.aor, alice.aor, h), alice, 'PUBLISH', bob.aor);
    expect(asAlice.status).toBe(403);
    expect(asAlice.reason).toBe(`Forbidden (${alice.aor} may publish only its own presence state)`);
  });

  it('challenges SUBSCRIBE with 407; an authenticated watcher gets its dialog; reg of another AoR is refused', async () => {
    const subscribe = (uri: string, event: string, headers: HeaderInput) =>
      client.subscribe({ uri, event, from: alice.aor, expires: 60, headers });
    const none = await subscribe(bob.aor, 'presence', {});
    expect(none.response.status).toBe(407);
    const wrong = await withDigest(
      (h) => subscribe(bob.aor, 'presence', h).then((s) => s.response),
      { ...alice, password: 'x' },
      'SUBSCRIBE',
      bob.aor,
    );
    expect(wrong.status).toBe(407);
    let dialog: Awaited<ReturnType<typeof subscribe>>['dialog'] | undefined;
    const ok = await withDigest(
      async (h) => {
        const s = await subscribe(alice.aor, 'reg', h);
        dialog = s.dialog;
        return s.response;
      },
      alice,
      'SUBSCRIBE',
      alice.aor,
    );
    expect(ok.status).toBe(200);
    const notify = await client.waitForRequest((m) => m.method === 'NOTIFY' && m.callId === dialog?.callId);
    client.respond(notify, 200);
    // The refresh inside the dialog is not challenged again.
    const refresh = await client.inDialog(dialog!, 'SUBSCRIBE', { Event: 'reg', Expires: 0 });
    expect(refresh.status).toBe(200);
    // reg of bob's AoR, From bob, credentials alice: the identity (alice) is not bob.
    const spy = await withDigest(
      (h) =>
        client
          .subscribe({ uri: bob.aor, event: 'reg', from: bob.aor, expires: 60, headers: h })
          .then((s) => s.response),
      alice,
      'SUBSCRIBE',
      bob.aor,
    );
    expect(spy.status).toBe(403);
  });

  it('follows a password change at once and forgets a deleted user', async () => {
    const carol = await createUser(app, `carol${randomToken(3)}`, 'example.com', 'old-pw');
    expect((await withDigest((h) => register(carol.aor, h), carol, 'REGISTER', 'sip:example.com')).status).toBe(200);
    const change = await adminApi(app, 'PUT', `/api/subscribers/${carol.id}/password`, { password: 'new-pw' });
    expect(change.status).toBe(204);
    expect((await withDigest((h) => register(carol.aor, h), carol, 'REGISTER', 'sip:example.com')).status).toBe(401);
    const updated = { ...carol, password: 'new-pw' };
    expect((await withDigest((h) => register(carol.aor, h), updated, 'REGISTER', 'sip:example.com')).status).toBe(200);
    expect((await adminApi(app, 'DELETE', `/api/subscribers/${carol.id}`)).status).toBe(204);
    expect((await adminApi(app, 'GET', `/api/subscribers/${carol.id}`)).status).toBe(404);
    expect((await withDigest((h) => register(carol.aor, h), updated, 'REGISTER', 'sip:example.com')).status).toBe(401);
  });
});

describe.each(databaseKinds())('SIP digest across a restart, and trusted peers, on %s', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await db.drop();
  });

  it('accepts a nonce issued before a restart (the key is in the database)', async () => {
    const before = await startTestApp(db, AUTH);
    const dave = await createUser(before, 'dave', 'example.com', 'dave-pw');
    const c1 = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: before.sipPorts.udp });
    const challenge = await c1.register({ aor: dave.aor, expires: 300 });
    expect(challenge.status).toBe(401);
    await c1.close();
    await before.close();

    const after = await startTestApp(db, AUTH);
    try {
      const c2 = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: after.sipPorts.udp });
      const a = answer(challenge, dave, 'REGISTER', 'sip:example.com');
      const res = await c2.register({ aor: dave.aor, expires: 300, headers: { [a.header]: a.value } });
      expect(res.status).toBe(200);
      await c2.close();
    } finally {
      await after.close();
    }
  });

  it('lets a user of auth.registerOthers register any AoR, but not wipe it with Contact: *', async () => {
    const app = await startTestApp(db, { ...AUTH, AUTH_REGISTER_OTHERS: 'sip:provisioner@example.com' });
    try {
      const prov = await createUser(app, 'provisioner', 'example.com', 'prov-pw');
      const c = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp });
      const frank = 'sip:frank@example.com';
      const reg = await withDigest(
        (h) => c.register({ aor: frank, expires: 300, headers: h }),
        prov,
        'REGISTER',
        'sip:example.com',
      );
      expect(reg.status).toBe(200);
      expect((await adminApi(app, 'GET', registrationPath(frank))).status).toBe(200);
      const wipe = await withDigest(
        (h) => c.register({ aor: frank, contact: '*', expires: 0, headers: h }),
        prov,
        'REGISTER',
        'sip:example.com',
      );
      expect(wipe.status).toBe(403);
      await c.close();
    } finally {
      await app.close();
    }
  });

  it('lets a trusted peer through without digest, with From as its identity', async () => {
    const app = await startTestApp(db, { ...AUTH, AUTH_TRUSTED_PEERS: '127.0.0.0/8' });
    try {
      const c = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp });
      expect((await c.register({ aor: 'sip:erin@example.com', expires: 300 })).status).toBe(200);
      await c.close();
    } finally {
      await app.close();
    }
  });
});
