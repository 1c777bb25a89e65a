/**
 * Rate limits (README, "Security"): token buckets per source address on SIP (503 with Retry-After, before
 * parsing) and HTTP (429 with Retry-After, also on WebSocket upgrades), and per user API key on REST, /ws
 * and /sip; listed addresses are exempt. Limits here are tiny (1 per second after a burst of a few) so that
 * a quick run of requests crosses them on any machine.
 */
import type { RunningApp } from '../../src/app.factory';
import { ApiKeyService } from '../../src/access/api-key.service';
import { api, type ApiResponse } from '../utils/e2e-helpers';
import { randomToken, SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';
import { upgrade, WsClient } from '../utils/ws-test-client';

const TINY = { PER_SECOND: '1', BURST: '3' };

async function times<T>(n: number, f: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

describe('rate limits', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterAll(async () => {
    await db.drop();
  });

  describe('per source address (loopback not exempt)', () => {
    let app: RunningApp;

    beforeAll(async () => {
      app = await startTestApp(db, {
        RATE_LIMIT_EXEMPT_LOOPBACK: 'false',
        RATE_LIMIT_REST_PER_SECOND: TINY.PER_SECOND,
        RATE_LIMIT_REST_BURST: TINY.BURST,
        RATE_LIMIT_SIP_PER_SECOND: TINY.PER_SECOND,
        RATE_LIMIT_SIP_BURST: TINY.BURST,
      });
    });

    afterAll(async () => {
      await app.close();
    });

    it('answers HTTP requests past the burst 429 with Retry-After and a JSON error, upgrades too', async () => {
      const res = await times(8, () => fetch(`http://127.0.0.1:${app.httpPort}/health`));
      const statuses = res.map((r) => r.status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      const limited = res.find((r) => r.status === 429);
      expect(limited).toBeDefined();
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited!.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      await Promise.all(res.filter((r) => !r.bodyUsed).map((r) => r.arrayBuffer()));
      expect(await upgrade(`ws://127.0.0.1:${app.httpPort}/ws`)).toMatchObject({ status: 429 });
    });

    it('answers SIP requests past the burst 503 with Retry-After, before anything else', async () => {
      const client = await SipTestClient.open({
        transport: 'udp',
        host: '127.0.0.1',
        port: app.sipPorts.udp,
        retransmit: false,
      });
      try {
        const res = await times(8, () => client.request({ method: 'OPTIONS', uri: 'sip:example.com' }));
        expect(res.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
        const limited = res.find((r) => r.status === 503);
        expect(limited).toBeDefined();
        expect(Number(limited!.header('retry-after'))).toBeGreaterThanOrEqual(1);
      } finally {
        await client.close();
      }
    });
  });

  describe('per API key, with the address exempt', () => {
    let app: RunningApp;
    let user: string;
    let admin: string;
    const aor = `sip:rl-${randomToken(6)}@example.com`;

    beforeAll(async () => {
      app = await startTestApp(db, {
        AUTH_ENABLED: 'true',
        RATE_LIMIT_EXEMPT_LOOPBACK: 'false',
        RATE_LIMIT_EXEMPT: '127.0.0.0/8',
        RATE_LIMIT_REST_PER_SECOND: TINY.PER_SECOND,
        RATE_LIMIT_REST_BURST: TINY.BURST,
        RATE_LIMIT_SIP_PER_SECOND: TINY.PER_SECOND,
        RATE_LIMIT_SIP_BURST: TINY.BURST,
        RATE_LIMIT_IDENTITY_PER_SECOND: TINY.PER_SECOND,
        RATE_LIMIT_IDENTITY_BURST: TINY.BURST,
      });
      const keys = app.app.get(ApiKeyService);
      admin = (await keys.create({ role: 'admin' })).key;
      user = (await keys.create({ role: 'user', aor })).key;
    });

    afterAll(async () => {
      await app.close();
    });

    const get = (key: string): Promise<ApiResponse> =>
      api(app.httpPort, 'GET', `/api/subscriptions?presentity=${aor}`, undefined, { authorization: `Bearer ${key}` });

    it('limits a user key on REST with 429 and Retry-After, not the exempt address nor admin keys', async () => {
      const res = await times(8, () => get(user));
      expect(res.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
      const limited = res.find((r) => r.status === 429);
      expect(limited?.json).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect(limited?.json.message).toContain('API key');
      expect((await times(8, () => get(admin))).map((r) => r.status)).toEqual(Array(8).fill(200));
      const client = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp });
      try {
        const options = await times(8, () => client.request({ method: 'OPTIONS', uri: 'sip:example.com' }));
        expect(options.map((r) => r.status)).toEqual(Array(8).fill(200));
      } finally {
        await client.close();
      }
    });

    it('limits the messages of a /ws socket opened with a user key', async () => {
      // A key of its own: the REST test spent the first one's burst.
      const fresh = (await app.app.get(ApiKeyService).create({ role: 'user', aor })).key;
      const ws = await WsClient.open(app.httpPort, `?token=${admin}`);
      const userWs = await WsClient.open(app.httpPort, `?token=${fresh}`);
      try {
        const answers = await times(8, () => userWs.ask({ type: 'ping', id: randomToken(4) }));
        expect(answers.slice(0, 3).map((m) => m.type)).toEqual(['pong', 'pong', 'pong']);
        expect(answers.find((m) => m.type === 'error')?.message).toContain('too many messages with this API key');
        const adminAnswers = await times(8, () => ws.ask({ type: 'ping', id: randomToken(4) }));
        expect(adminAnswers.every((m) => m.type === 'pong')).toBe(true);
      } finally {
        await ws.close();
        await userWs.close();
      }
    });

    it('limits SIP requests on a /sip connection opened with a user key: 503 with Retry-After', async () => {
      const user2 = (await app.app.get(ApiKeyService).create({ role: 'user', aor })).key;
      const [local] = aor.slice(4).split('@');
      const sip = await SipTestClient.open({
        transport: 'ws',
        host: '127.0.0.1',
        port: app.httpPort,
        path: `/sip?token=${user2}`,
        user: local,
      });
      try {
        const res: SipTestMessage[] = await times(8, () => sip.request({ method: 'OPTIONS', uri: 'sip:example.com' }));
        expect(res.slice(0, 2).map((r) => r.status)).toEqual([200, 200]);
        const limited = res.find((r) => r.status === 503);
        expect(limited?.reason).toContain('too many requests with this API key');
        expect(Number(limited?.header('retry-after'))).toBeGreaterThanOrEqual(1);
      } finally {
        await sip.close();
      }
    });
  });
});
