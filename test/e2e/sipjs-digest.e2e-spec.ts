/**
 * The browser client our users run, sip.js 0.21, with digest credentials (authorizationUsername /
 * authorizationPassword) over SIP over WebSocket: it answers the 401 to REGISTER and the 407 to SUBSCRIBE
 * and PUBLISH by itself. sip.js computes MD5 only and keeps the last challenge of a response, which with the
 * default auth.algorithms (SHA-256, then MD5) is the MD5 one.
 */
import { Publisher, Registerer, RegistererState, Subscriber, UserAgent, type Notification } from 'sip.js';
import WebSocket from 'ws';
import type { RunningApp } from '../../src/app.factory';
import { adminApi, createUser, type TestUser } from '../utils/digest-e2e';
import { pollUntil, registrationPath } from '../utils/e2e-helpers';
import { pidf, randomToken } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

// sip.js opens its transport with the global WebSocket, which Node 20 lacks.
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

describe.each(databaseKinds())('sip.js with digest credentials over WS on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let alice: TestUser;
  let bob: TestUser;
  const agents: UserAgent[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, { AUTH_ENABLED: 'true' });
    alice = await createUser(app, `alice${randomToken(3)}`, 'example.com', 'alice-secret');
    bob = await createUser(app, `bob${randomToken(3)}`, 'example.com', 'bob-secret');
  });

  afterEach(async () => {
    for (const ua of agents.splice(0)) await ua.stop();
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  async function userAgent(user: TestUser, password = user.password): Promise<UserAgent> {
    const ua = new UserAgent({
      uri: UserAgent.makeURI(user.aor)!,
      authorizationUsername: user.username,
      authorizationPassword: password,
      transportOptions: { server: `ws://127.0.0.1:${app.httpPort}/sip` },
      logLevel: 'error',
    });
    await ua.start();
    agents.push(ua);
    return ua;
  }

  /** Registers and resolves with the final status sip.js saw. */
  async function register(ua: UserAgent): Promise<{ registerer: Registerer; status: number }> {
    const registerer = new Registerer(ua, { expires: 300 });
    const status = await new Promise<number>((resolve, reject) => {
      registerer
        .register({
          requestDelegate: {
            onAccept: (res) => {
              resolve(res.message.statusCode ?? 0);
            },
            onReject: (res) => {
              resolve(res.message.statusCode ?? 0);
            },
          },
        })
        .catch(reject);
    });
    return { registerer, status };
  }

  it('registers after answering the 401, and unregisters', async () => {
    const ua = await userAgent(alice);
    const { registerer, status } = await register(ua);
    expect(status).toBe(200);
    expect(registerer.state).toBe(RegistererState.Registered);
    const reg = await adminApi(app, 'GET', registrationPath(alice.aor));
    expect(reg.status).toBe(200);
    expect((reg.json as { contacts: { source: { protocol: string } }[] }).contacts[0].source.protocol).toBe('ws');
    await registerer.unregister();
    await pollUntil(
      async () => ((await adminApi(app, 'GET', registrationPath(alice.aor))).status === 404 ? true : undefined),
      5000,
      'binding removed',
    );
  });

  it('is refused with a wrong password', async () => {
    const ua = await userAgent(alice, 'wrong');
    const { status } = await register(ua);
    expect(status).toBe(401);
  });

  it("subscribes after answering the 407 and sees bob's PUBLISH, itself answering a 407", async () => {
    const watcher = await userAgent(alice);
    const bodies: string[] = [];
    const sub = new Subscriber(watcher, UserAgent.makeURI(bob.aor)!, 'presence', { expires: 300 });
    sub.delegate = {
      onNotify: (n: Notification) => {
        bodies.push(n.request.body);
        void n.accept();
      },
    };
    await sub.subscribe();
    try {
      await pollUntil(() => (bodies.length > 0 ? true : undefined), 5000, 'first NOTIFY');
      const presentity = await userAgent(bob);
      const publisher = new Publisher(presentity, UserAgent.makeURI(bob.aor)!, 'presence', {
        contentType: 'application/pidf+xml',
        expires: 300,
      });
      await publisher.publish(pidf(bob.aor, 'open', 'digest works'));
      await pollUntil(() => bodies.find((b) => b.includes('digest works')), 5000, 'NOTIFY with the published note');
      await publisher.unpublish();
    } finally {
      // Unsubscribed before the agents stop, or stop() waits for Timer N.
      await sub.unsubscribe();
    }
  });
});
