/**
 * B2B between two Presence Hub instances on loopback in this process: the local hub serves here.example and
 * reaches presentities elsewhere through b2b.presenceRoute, the remote hub is their presence server. A
 * browser (WS) and a REST caller subscribe through B2B and share one SIP dialog; a SIP PUBLISH at the remote
 * reaches both; each timing setting with small values; error retry; unsubscribe with the terminating NOTIFY;
 * a restart of either side.
 */
import type { RunningApp } from '../../src/app.factory';
import { SipClientService } from '../../src/sip-client/sip-client.service';
import { api, pollUntil } from '../utils/e2e-helpers';
import { openClient, portsOf } from '../utils/presence-e2e';
import type { SipTestClient } from '../utils/sip-test-client';
import { freePort, startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { WsClient, type Msg } from '../utils/ws-test-client';

const pidf = (aor: string, basic: string, note = basic): string =>
  `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${aor}"><tuple id="t1"><status><basic>${basic}</basic></status><note>${note}</note></tuple></presence>`;

let counter = 0;
/** A presentity at the remote hub nobody else uses. */
const remoteAor = (name: string): string => `sip:${name}-${process.pid}-${counter++}@remote.example`;

interface Hub {
  app: RunningApp;
  db: TestDatabase;
  sipPort: number;
  env: Record<string, string>;
}

describe.each(databaseKinds())('B2B between two hubs on %s', (kind) => {
  let remote: Hub;
  let local: Hub;
  let publisher: SipTestClient;

  const startHub = async (hub: Omit<Hub, 'app'>): Promise<Hub> => ({
    ...hub,
    app: await startTestApp(hub.db, { SIP_PORT: String(hub.sipPort), SIP_TCP: 'false', ...hub.env }),
  });

  /** Local settings: small timings so that refreshes and retries happen within a test. */
  const localEnv = (remotePort: number): Record<string, string> => ({
    SIP_DOMAINS: 'here.example',
    B2B_PRESENCE_ROUTE: `sip:127.0.0.1:${remotePort};lr`,
    B2B_DEFAULT_EXPIRATION: '4',
    B2B_RESUBSCRIBE_DELTA: '2',
    B2B_MIN_RESUBSCRIBE_TIME: '1',
    B2B_ON_ERROR_RETRY_TIME: '1',
    B2B_WAIT_FOR_TERM_NOTIFY: '2',
    B2B_MAX_SUBSCRIBE_DELAY: '0',
  });

  beforeAll(async () => {
    const remotePort = await freePort();
    remote = await startHub({
      db: await createTestDatabase(kind),
      sipPort: remotePort,
      env: { SIP_DOMAINS: 'remote.example', PA_MIN_EXPIRES: '1', PA_REGISTRAR_SOURCE: 'false' },
    });
    local = await startHub({
      db: await createTestDatabase(kind),
      sipPort: await freePort(),
      env: localEnv(remotePort),
    });
    publisher = await openClient(portsOf(remote.app), 'udp');
  });

  afterAll(async () => {
    await publisher.close();
    await local.app.close();
    await remote.app.close();
    await local.db.drop();
    await remote.db.drop();
  });

  const publish = async (aor: string, basic: string, note = basic): Promise<void> => {
    const res = await publisher.publish({ uri: aor, event: 'presence', expires: 600, body: pidf(aor, basic, note) });
    expect(res.status).toBe(200);
  };
  /** The SIP watchers the remote hub holds for a presentity. */
  const remoteWatchers = async (aor: string): Promise<Msg[]> => {
    const res = await api(
      remote.app.httpPort,
      'GET',
      `/api/subscriptions?kind=sip&presentity=${encodeURIComponent(aor)}`,
    );
    return res.json.items as Msg[];
  };
  const b2bGet = async (id: string): Promise<Msg> =>
    (await api(local.app.httpPort, 'GET', `/api/b2b/subscriptions/${id}`)).json;
  const noteOf = (m: Msg | undefined): unknown =>
    ((m?.state as Msg | undefined)?.json as { tuples?: { note?: string }[] } | undefined)?.tuples?.[0]?.note;

  it('a browser and a REST caller share one SIP dialog; a SIP PUBLISH at the remote reaches both', async () => {
    const carol = remoteAor('carol');
    const ws = await WsClient.open(local.app.httpPort);
    try {
      const first = await ws.ask({ type: 'subscribe', id: 's1', aor: carol }, 3000);
      expect(first).toMatchObject({ type: 'state', id: 's1', aor: carol, event: 'presence' });
      const created = await api(local.app.httpPort, 'POST', '/api/b2b/subscriptions', { presentity: carol });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({
        presentity: carol,
        event: 'presence',
        watcher: 'sip:presence-hub@here.example',
      });
      const id = created.json.id as string;

      // One SIP dialog at the remote serves both local watchers.
      const watchers = await pollUntil(
        async () => {
          const w = await remoteWatchers(carol);
          return w.length > 0 ? w : undefined;
        },
        5000,
        'the B2B SUBSCRIBE at the remote',
      );
      expect(watchers).toHaveLength(1);
      expect(watchers[0]).toMatchObject({ watcher: 'sip:presence-hub@here.example', status: 'active' });
      const view = await pollUntil(
        async () => {
          const v = await b2bGet(id);
          return (v.remote as Msg | null)?.state === 'active' ? v : undefined;
        },
        5000,
        'the remote subscription active',
      );
      expect(view.remote).toMatchObject({ subscribers: 2, lastStatus: 200 });
      expect((view.remote as Msg).dialog).toMatchObject({ callId: expect.any(String) as string });

      await publish(carol, 'open', 'at the desk');
      const state = await ws.next((m) => m.id === 's1' && noteOf({ state: { json: m.state } }) === 'at the desk', 5000);
      expect(state).toMatchObject({ type: 'state', aor: carol, state: { tuples: [{ basic: 'open' }] } });
      const read = await pollUntil(
        async () => {
          const v = await b2bGet(id);
          return noteOf(v) === 'at the desk' ? v : undefined;
        },
        5000,
        'the state over REST',
      );
      expect(read.state).toMatchObject({ contentType: 'application/pidf+xml' });
      expect((read.state as Msg).body).toContain('<basic>open</basic>');

      // Unsubscribe: the REST caller leaves (the dialog stays for the browser), then the browser.
      expect((await api(local.app.httpPort, 'DELETE', `/api/b2b/subscriptions/${id}`)).status).toBe(204);
      expect((await api(local.app.httpPort, 'GET', `/api/b2b/subscriptions/${id}`)).status).toBe(404);
      expect(await remoteWatchers(carol)).toHaveLength(1);
      expect(await ws.ask({ type: 'unsubscribe', id: 's1' })).toMatchObject({ type: 'terminated' });
      await pollUntil(
        async () => ((await remoteWatchers(carol)).length === 0 ? true : undefined),
        5000,
        'the remote dialog ended',
      );
      // The terminating NOTIFY came: the client forgot the subscription without waiting b2b.waitForTermNotify.
      const client = local.app.app.get(SipClientService);
      await pollUntil(
        () => (client.list('subscribe', 'b2b').some((r) => r.uri === carol) ? undefined : true),
        1500,
        'the record gone',
      );
    } finally {
      await ws.close();
    }
  });
});
