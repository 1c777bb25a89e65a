/**
 * Issue 4 acceptance: the browser client our users run, sip.js 0.21 over our SIP-over-WebSocket transport
 * (RFC 7118): a `Subscriber` to `presence` sees what a sip.js `Publisher` publishes, and what SIPp publishes
 * over UDP.
 */
import { Publisher, Subscriber, UserAgent, type Notification } from 'sip.js';
import WebSocket from 'ws';
import type { RunningApp } from '../../src/app.factory';
import { runSipp } from '../utils/sipp';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { eventually, expectValidPidf, listedSubscriptions, uniqueAor } from '../utils/presence-e2e';
import { pidf } from '../utils/sip-test-client';

// sip.js opens its transport with the global WebSocket, which Node 20 lacks.
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

describe.each(databaseKinds())('sip.js Subscriber and Publisher over WS on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  const agents: UserAgent[] = [];
  const subscribers: Subscriber[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
  });

  // Unsubscribing first matters: a Subscriber still subscribed at stop() waits for Timer N (32 s), since
  // sip.js never reports a dialog ended by NOTIFY terminated to its dispose().
  afterEach(async () => {
    for (const sub of subscribers.splice(0)) await sub.unsubscribe();
    for (const ua of agents.splice(0)) await ua.stop();
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  async function userAgent(aor: string): Promise<UserAgent> {
    const uri = UserAgent.makeURI(aor);
    if (uri === undefined) throw new Error(`makeURI(${aor}) failed`);
    const ua = new UserAgent({
      uri,
      transportOptions: { server: `ws://127.0.0.1:${app.httpPort}/sip` },
      logLevel: 'error',
    });
    await ua.start();
    agents.push(ua);
    return ua;
  }

  /** A started sip.js Subscriber to `presentity`; every NOTIFY body it receives is collected. */
  async function subscriber(presentity: string): Promise<{ bodies: string[]; sub: Subscriber }> {
    const ua = await userAgent(uniqueAor('watcher'));
    const target = UserAgent.makeURI(presentity);
    if (target === undefined) throw new Error('makeURI failed');
    const bodies: string[] = [];
    const sub = new Subscriber(ua, target, 'presence', { expires: 300 });
    sub.delegate = {
      onNotify: (notification: Notification) => {
        bodies.push(notification.request.body);
        void notification.accept();
      },
    };
    subscribers.push(sub);
    await sub.subscribe();
    await eventually(() => (bodies.length > 0 ? true : undefined), 5000, 'first NOTIFY to the sip.js Subscriber');
    return { bodies, sub };
  }

  function bodyWith(bodies: string[], text: string): Promise<string> {
    return eventually(() => bodies.find((b) => b.includes(text)), 5000, `a NOTIFY containing "${text}"`);
  }

  it('a Subscriber sees what a Publisher publishes', async () => {
    const presentity = uniqueAor('alice');
    const { bodies, sub } = await subscriber(presentity);
    expect(bodies[0]).toContain('<basic>closed</basic>');

    const ua = await userAgent(presentity);
    const target = UserAgent.makeURI(presentity);
    if (target === undefined) throw new Error('makeURI failed');
    const publisher = new Publisher(ua, target, 'presence', { contentType: 'application/pidf+xml', expires: 300 });
    await publisher.publish(pidf(presentity, 'open', 'published by sip.js'));

    const body = await bodyWith(bodies, 'published by sip.js');
    expect(body).toContain('<basic>open</basic>');
    expectValidPidf(body);

    // A modification (sip.js sends SIP-If-Match with the ETag it was given) reaches the Subscriber too.
    await publisher.publish(pidf(presentity, 'closed', 'modified by sip.js'));
    const modified = await bodyWith(bodies, 'modified by sip.js');
    expect(modified).not.toContain('published by sip.js');

    // Unsubscribing (SUBSCRIBE Expires 0 in the dialog) removes the watcher on the server.
    expect(await listedSubscriptions(app.httpPort, presentity)).toHaveLength(1);
    await sub.unsubscribe();
    await eventually(
      async () => ((await listedSubscriptions(app.httpPort, presentity))?.length === 0 ? true : undefined),
      5000,
      'the sip.js subscription gone from GET /api/subscriptions',
    );
  });

  it('a Subscriber sees what SIPp publishes over UDP', async () => {
    const user = `alice-sipp-${Date.now().toString(36)}`;
    const presentity = `sip:${user}@example.com`;
    const { bodies } = await subscriber(presentity);

    const run = await runSipp({
      scenario: 'publish',
      remote: `127.0.0.1:${app.sipPorts.udp}`,
      vars: { presentity: user, domain: 'example.com', note: 'from sipp', expires: '300' },
      timeoutMs: 15_000,
    });
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: '' });
    expect(run.stats?.successfulCalls).toBe(1);

    const body = await bodyWith(bodies, 'from sipp');
    expect(body).toContain('<basic>open</basic>');
    expectValidPidf(body);
  });
});
