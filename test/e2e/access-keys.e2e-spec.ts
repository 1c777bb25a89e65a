/**
 * API keys and roles on the REST API and the browser WebSocket (README, "Security"), with auth.enabled: no
 * key or a wrong one is 401, a user key acts for its own AoR only (403 otherwise, also for contact details,
 * ua-profiles and publishing presence), admin keys for all; /health stays open; the first start created an
 * admin key.
 */
import type { RunningApp } from '../../src/app.factory';
import { ApiKeyService } from '../../src/access/api-key.service';
import { api, registrationPath, type ApiResponse } from '../utils/e2e-helpers';
import { randomToken, SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { upgrade, WsClient } from '../utils/ws-test-client';

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

describe.each(databaseKinds())('API keys and roles on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let port: number;
  let admin: string;
  const run = randomToken(6);
  const alice = `sip:alice-${run}@example.com`;
  const bob = `sip:bob-${run}@example.com`;
  let aliceKey: string;
  let aliceKeyId: string;
  let bobKey: string;

  const as = (key: string, method: string, path: string, body?: unknown): Promise<ApiResponse> =>
    api(port, method, path, body, bearer(key));

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // SIP requests from loopback skip digest here: these tests are about API keys (digest: sip-digest.e2e-spec).
    app = await startTestApp(db, { AUTH_ENABLED: 'true', AUTH_TRUSTED_PEERS: '127.0.0.1' });
    port = app.httpPort;
    admin = (await app.app.get(ApiKeyService).create({ role: 'admin', label: 'tests' })).key;
    const a = await as(admin, 'POST', '/api/keys', { role: 'user', aor: alice, label: 'alice phone' });
    expect(a.status).toBe(201);
    aliceKey = a.json.key as string;
    aliceKeyId = a.json.id as string;
    bobKey = (await as(admin, 'POST', '/api/keys', { role: 'user', aor: `bob-${run}@example.com` })).json.key as string;
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('created an admin key at first start, and lists keys without the keys themselves', async () => {
    const list = await as(admin, 'GET', '/api/keys');
    expect(list.status).toBe(200);
    const items = list.json.items as Record<string, unknown>[];
    expect(items.filter((k) => k.role === 'admin').map((k) => k.label)).toContain('created at first start');
    expect(items.find((k) => k.id === aliceKeyId)).toMatchObject({ role: 'user', aor: alice, label: 'alice phone' });
    expect(list.text).not.toContain(aliceKey);
    expect(items.every((k) => typeof k.prefix === 'string' && !('key' in k) && !('hash' in k))).toBe(true);
    expect(await app.app.get(ApiKeyService).ensureAdminKey()).toBeUndefined();
  });

  it('answers 401 as JSON without a key or with a wrong one, and keeps /health and /docs open', async () => {
    const none = await api(port, 'GET', registrationPath(alice));
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ statusCode: 401, error: 'Unauthorized', field: 'Authorization' });
    expect(none.json.message).toContain('Authorization: Bearer');
    const raw = await fetch(`http://127.0.0.1:${port}/api/keys`);
    expect(raw.headers.get('www-authenticate')).toBe('Bearer realm="presence-hub"');
    await raw.arrayBuffer();
    const wrong = await api(port, 'GET', registrationPath(alice), undefined, bearer(`ph_${'x'.repeat(43)}`));
    expect(wrong.status).toBe(401);
    expect(wrong.json.message).toContain('not valid');
    const viaHeader = await api(port, 'GET', '/api/keys', undefined, { 'x-api-key': admin });
    expect(viaHeader.status).toBe(200);
    expect((await api(port, 'GET', '/health')).status).toBe(200);
    expect((await api(port, 'GET', '/docs-json')).status).toBe(200);
  });

  it('refuses key management and unlisted routes to user keys (403 JSON)', async () => {
    const keys = await as(aliceKey, 'GET', '/api/keys');
    expect(keys.status).toBe(403);
    expect(keys.json.message).toContain('admin keys only');
    expect((await as(aliceKey, 'POST', '/api/keys', { role: 'admin' })).status).toBe(403);
    expect((await as(aliceKey, 'GET', '/api/registrations')).status).toBe(403);
  });

  it("shows a registration's contact details to its owner and admins only", async () => {
    const phone = await SipTestClient.open({
      transport: 'udp',
      host: '127.0.0.1',
      port: app.sipPorts.udp,
      user: `alice-${run}`,
    });
    try {
      expect((await phone.register({ aor: alice, expires: 600 })).status).toBe(200);
    } finally {
      await phone.close();
    }
    const own = await as(aliceKey, 'GET', registrationPath(alice));
    expect(own.status).toBe(200);
    expect(own.text).toContain('127.0.0.1');
    const other = await as(bobKey, 'GET', registrationPath(alice));
    expect(other.status).toBe(403);
    expect(other.json).toMatchObject({ statusCode: 403, error: 'Forbidden', field: 'aor' });
    expect(other.json.message).toContain(`may act only for its own AoR, not ${alice}`);
    expect(other.text).not.toContain('127.0.0.1');
    expect((await as(bobKey, 'GET', `/api/presentities/${encodeURIComponent(alice)}/reg`)).status).toBe(403);
    expect((await as(admin, 'GET', registrationPath(alice))).status).toBe(200);
  });

  it("lets a user publish and read its own presence, not another's", async () => {
    const own = await as(aliceKey, 'PUT', `/api/presentities/${alice}/presence`, { status: 'open' });
    expect(own.status).toBe(200);
    const other = await as(aliceKey, 'PUT', `/api/presentities/${bob}/presence`, { status: 'open', note: 'hi' });
    expect(other.status).toBe(403);
    expect(other.json.field).toBe('aor');
    expect((await as(aliceKey, 'GET', `/api/presentities/${bob}/presence`)).status).toBe(403);
    expect((await as(admin, 'GET', `/api/presentities/${bob}/presence`)).json).not.toMatchObject({ note: 'hi' });
  });

  it("lets a user read its own ua-profile, not another's; uploads are for admins", async () => {
    const put = await api(port, 'PUT', `/api/profiles/${alice}`, '<cfg>alice</cfg>', {
      ...bearer(admin),
      'content-type': 'application/xml',
    });
    expect(put.status).toBe(201);
    const own = await as(aliceKey, 'GET', `/api/profiles/${alice}`);
    expect(own.status).toBe(200);
    expect(own.text).toBe('<cfg>alice</cfg>');
    const other = await as(bobKey, 'GET', `/api/profiles/${alice}`);
    expect(other.status).toBe(403);
    expect(other.text).not.toContain('cfg');
    const upload = await api(port, 'PUT', `/api/profiles/${alice}`, '<cfg>mine</cfg>', {
      ...bearer(aliceKey),
      'content-type': 'application/xml',
    });
    expect(upload.status).toBe(403);
    expect((await as(bobKey, 'GET', `/api/profiles?aor=${alice}`)).status).toBe(403);
  });

  it("lets a user decide who watches its presence, not another's", async () => {
    const own = `/api/watchers/${encodeURIComponent(alice)}`;
    expect((await as(aliceKey, 'GET', own)).status).toBe(200);
    const rule = await as(aliceKey, 'PUT', `${own}/${encodeURIComponent(bob)}`, { policy: 'deny' });
    expect(rule.status).toBe(200);
    const other = await as(aliceKey, 'GET', `/api/watchers/${encodeURIComponent(bob)}`);
    expect(other.status).toBe(403);
    expect(other.json.field).toBe('presentity');
    expect((await as(admin, 'GET', `/api/watchers/${encodeURIComponent(bob)}`)).status).toBe(200);
  });

  it('makes a user name its own AoR in list filters', async () => {
    const none = await as(aliceKey, 'GET', '/api/subscriptions');
    expect(none.status).toBe(403);
    expect(none.json).toMatchObject({ field: 'presentity' });
    expect((await as(aliceKey, 'GET', `/api/subscriptions?presentity=${bob}`)).status).toBe(403);
    expect((await as(aliceKey, 'GET', `/api/subscriptions?presentity=${alice}`)).status).toBe(200);
  });

  it('refuses /ws without a valid token (401 JSON), by query parameter or subprotocol', async () => {
    const none = await upgrade(`ws://127.0.0.1:${port}/ws`);
    expect(none).toMatchObject({ status: 401 });
    expect(JSON.parse((none as { body: string }).body)).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(await upgrade(`ws://127.0.0.1:${port}/ws?token=ph_nope`)).toMatchObject({ status: 401 });
    expect(await upgrade(`ws://127.0.0.1:${port}/ws?token=${aliceKey}`)).toBe('open');
    expect(await upgrade(`ws://127.0.0.1:${port}/ws`, [`token.${aliceKey}`])).toBe('open');
  });

  it("over /ws, refuses publishing another's presence and watching another's contacts or ua-profile", async () => {
    const ws = await WsClient.open(port, `?token=${aliceKey}`);
    try {
      const pub = await ws.ask({ type: 'publish', id: 1, aor: bob, status: 'open' });
      expect(pub).toMatchObject({ type: 'error', field: 'aor' });
      const reg = await ws.ask({ type: 'subscribe', id: 2, aor: bob, event: 'reg' });
      expect(reg).toMatchObject({ type: 'error', field: 'aor' });
      const profile = await ws.ask({ type: 'subscribe', id: 3, aor: bob, event: 'ua-profile' });
      expect(profile).toMatchObject({ type: 'error', field: 'aor' });
      const ownPub = await ws.ask({ type: 'publish', id: 4, aor: alice, status: 'open' });
      expect(ownPub.type).toBe('published');
      const ownReg = await ws.ask({ type: 'subscribe', id: 5, aor: alice, event: 'reg' });
      expect(ownReg).toMatchObject({ type: 'state', aor: alice, event: 'reg' });
    } finally {
      await ws.close();
    }
  });

  it('binds a /sip connection opened with a key to its AoR', async () => {
    const sip = await SipTestClient.open({
      transport: 'ws',
      host: '127.0.0.1',
      port,
      path: `/sip?token=${aliceKey}`,
      user: `alice-${run}`,
    });
    try {
      const other = await sip.publish({ uri: bob, event: 'presence', expires: 600 });
      expect(other.status).toBe(403);
      expect(other.reason).toContain('may not act for');
      expect((await sip.register({ aor: alice, expires: 600 })).status).toBe(200);
    } finally {
      await sip.close();
    }
    expect(await upgrade(`ws://127.0.0.1:${port}/sip?token=ph_nope`, ['sip'])).toMatchObject({ status: 401 });
  });

  it('refuses a revoked key at once', async () => {
    const k = await as(admin, 'POST', '/api/keys', { role: 'user', aor: alice, expiresAt: '2999-01-01T00:00:00Z' });
    expect(k.json.expiresAt).toBe('2999-01-01T00:00:00.000Z');
    expect((await as(k.json.key as string, 'GET', registrationPath(alice))).status).toBe(200);
    expect((await as(admin, 'DELETE', `/api/keys/${k.json.id as string}`)).status).toBe(204);
    expect((await as(k.json.key as string, 'GET', registrationPath(alice))).status).toBe(401);
    expect((await as(admin, 'DELETE', `/api/keys/${k.json.id as string}`)).status).toBe(404);
  });

  it('names the field of a bad key request', async () => {
    expect((await as(admin, 'POST', '/api/keys', { role: 'root' })).json).toMatchObject({
      statusCode: 400,
      field: 'role',
    });
    expect((await as(admin, 'POST', '/api/keys', { role: 'user' })).json).toMatchObject({
      statusCode: 400,
      field: 'aor',
    });
    expect((await as(admin, 'POST', '/api/keys', { role: 'admin', expiresAt: '2001-01-01' })).json).toMatchObject({
      field: 'expiresAt',
    });
  });
});
