/**
 * B2B between two Presence Hub instances on loopback in this process: the local hub serves here.example and
 * reaches presentities elsewhere through b2b.presenceRoute, the remote hub is their presence server. A
 * browser (WS) and a REST caller subscribe through B2B and share one SIP dialog; a SIP PUBLISH at the remote
 * reaches both; each timing setting with small values; error retry; unsubscribe with the terminating NOTIFY;
 * a restart of either side.
 */
import type { RunningApp } from '../../src/app.factory';
import { B2bService } from '../../src/b2b/b2b.service';
import { SipClientService } from '../../src/sip-client/sip-client.service';
import { api, pollUntil } from '../utils/e2e-helpers';
import { nextNotify, openClient, portsOf } from '../utils/presence-e2e';
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

  const restart = async (hub: Hub, env: Record<string, string> = {}): Promise<void> => {
    await hub.app.close();
    hub.env = { ...hub.env, ...env };
    hub.app = (await startHub(hub)).app;
  };

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
    B2B_PRESENCE_PROXY: 'true',
  });

  beforeAll(async () => {
    const remotePort = await freePort();
    remote = await startHub({
      db: await createTestDatabase(kind),
      sipPort: remotePort,
      env: {
        SIP_DOMAINS: 'remote.example',
        PA_MIN_EXPIRES: '1',
        PA_REGISTRAR_SOURCE: 'false',
        PRESENCE_REGINFO_TRUSTED_WATCHERS: 'here.example',
      },
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

  it('as a presence proxy serves a SIP watcher of a remote presentity with its own remote subscription', async () => {
    const jane = remoteAor('jane');
    const phone = await openClient(portsOf(local.app), 'udp', { user: 'phone', domain: 'here.example' });
    try {
      const { response, dialog } = await phone.subscribe({ uri: jane, event: 'presence', expires: 60 });
      expect(response.status).toBe(200);
      // The remote sees the phone itself as the watcher.
      const watchers = await pollUntil(
        async () => {
          const w = await remoteWatchers(jane);
          return w.length === 1 ? w : undefined;
        },
        5000,
        'the proxied SUBSCRIBE at the remote',
      );
      expect(watchers[0]).toMatchObject({ watcher: 'sip:phone@here.example' });
      await publish(jane, 'open', 'proxied');
      const notify = await nextNotify(phone, dialog.callId, 5000, (m) => m.body.includes('proxied'));
      expect(notify.header('content-type')).toBe('application/pidf+xml');
      expect(notify.body).toContain('<basic>open</basic>');
      // Unsubscribing ends the remote subscription too.
      const bye = await phone.inDialog(dialog, 'SUBSCRIBE', { Event: 'presence', Expires: 0 });
      expect(bye.status).toBe(200);
      await pollUntil(async () => ((await remoteWatchers(jane)).length === 0 ? true : undefined), 5000, 'jane ended');
    } finally {
      await phone.close();
    }
  });

  it('subscribes to other packages the remote offers: reg (reginfo) after a REGISTER there', async () => {
    const kim = remoteAor('kim');
    const res = await api(local.app.httpPort, 'POST', '/api/b2b/subscriptions', {
      presentity: kim,
      event: 'reg',
      watcher: 'sip:ops@here.example',
    });
    expect(res.status).toBe(201);
    const id = res.json.id as string;
    await pollUntil(
      async () => ((await b2bGet(id)).remote as Msg | null)?.state === 'active' || undefined,
      5000,
      'the reg subscription active',
    );
    expect((await publisher.register({ aor: kim, expires: 600 })).status).toBe(200);
    const view = await pollUntil(
      async () => {
        const v = await b2bGet(id);
        return ((v.state as Msg | null)?.body as string | undefined)?.includes('state="active"') ? v : undefined;
      },
      5000,
      'the reginfo of the registration',
    );
    expect(view.state).toMatchObject({ contentType: 'application/reginfo+xml' });
    expect(JSON.stringify((view.state as Msg).json)).toContain(kim);
    expect((await api(local.app.httpPort, 'DELETE', `/api/b2b/subscriptions/${id}`)).status).toBe(204);
  });

  /** The outgoing client's record of the remote subscription serving a B2B subscription. */
  const recordOf = (id: string) => {
    const key = local.app.app.get(B2bService).remoteOf(id)?.key;
    return key === undefined ? undefined : local.app.app.get(SipClientService).get('subscribe', 'b2b', key);
  };
  const create = async (body: Msg): Promise<string> => {
    const res = await api(local.app.httpPort, 'POST', '/api/b2b/subscriptions', body);
    expect(res.status).toBe(201);
    return res.json.id as string;
  };
  /**
   * Samples the remote watcher of `aor` for `ms`: each refresh SUBSCRIBE moves its expiry, set by the remote
   * from its own clock when it handled the SUBSCRIBE, so the gaps between refreshes are read from the expiries
   * (as granted the same each time), not from when this test happened to look.
   */
  const refreshTimes = async (aor: string, ms: number): Promise<{ at: number; id: unknown }[]> => {
    const seen: { at: number; id: unknown }[] = [];
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const w = await remoteWatchers(aor);
      const at = w.length === 1 ? Date.parse(w[0].expiresAt as string) : undefined;
      if (at !== undefined && at !== seen.at(-1)?.at) seen.push({ at, id: w[0].id });
      await new Promise((r) => setTimeout(r, 20));
    }
    return seen;
  };

  it('refreshes b2b.resubscribeDelta before expiry in the same dialog, never sooner than b2b.minResubscribeTime', async () => {
    const erin = remoteAor('erin');
    const fay = remoteAor('fay');
    // erin: default expiration 4 s, refreshed 2 s before it; fay: 2 s, where 2 s before expiry would be at
    // once: the minimum of 1 s between SUBSCRIBEs holds it back.
    await create({ presentity: erin });
    await create({ presentity: fay, expires: 2 });
    await pollUntil(async () => ((await remoteWatchers(fay)).length === 1 ? true : undefined), 5000, 'fay subscribed');
    const [erinTimes, fayTimes] = await Promise.all([refreshTimes(erin, 5500), refreshTimes(fay, 4000)]);
    const gaps = (t: { at: number }[]) => t.slice(1).map((x, i) => x.at - t[i].at);
    // Alive past its first expiry, one dialog throughout (the same subscription at the remote).
    expect(erinTimes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(erinTimes.map((t) => t.id)).size).toBe(1);
    // 2 s apart (the remote's handling may lag a little more for one than for the next).
    for (const g of gaps(erinTimes)) expect(g).toBeGreaterThanOrEqual(1500);
    expect(fayTimes.length).toBeGreaterThanOrEqual(3);
    expect(new Set(fayTimes.map((t) => t.id)).size).toBe(1);
    // 1 s apart, where 0.2 s before expiry would refresh five times a second.
    for (const g of gaps(fayTimes)) expect(g).toBeGreaterThanOrEqual(700);
  });

  it('tries a failed SUBSCRIBE again after b2b.onErrorRetryTime', async () => {
    // The remote serves remote.example only: 404 for this one.
    const id = await create({ presentity: 'sip:nobody@elsewhere.example' });
    const first = await pollUntil(
      () => {
        const r = recordOf(id);
        return r?.state === 'retrying' ? r : undefined;
      },
      5000,
      'the first failure',
    );
    expect(first).toMatchObject({ lastStatus: 404 });
    const view = await b2bGet(id);
    expect(view.remote).toMatchObject({ state: 'retrying', lastStatus: 404, retryAt: expect.any(String) as string });
    const second = await pollUntil(
      () => {
        const r = recordOf(id);
        return r && r.retryAt > first.retryAt ? r : undefined;
      },
      5000,
      'the second attempt',
    );
    expect(second.retryAt - first.retryAt).toBeGreaterThanOrEqual(1000);
    expect(second).toMatchObject({ state: 'retrying', lastStatus: 404 });
    expect((await api(local.app.httpPort, 'DELETE', `/api/b2b/subscriptions/${id}`)).status).toBe(204);
  });

  it('resumes after a restart of either side; ends what only a browser watched; spreads new SUBSCRIBEs', async () => {
    const gina = remoteAor('gina');
    const hank = remoteAor('hank');
    const id = await create({ presentity: gina, watcher: 'sip:ops@here.example', expires: 600 });
    const ws = await WsClient.open(local.app.httpPort);
    await ws.ask({ type: 'subscribe', id: 'h', aor: hank }, 3000);
    await pollUntil(
      async () => ((await remoteWatchers(hank)).length === 1 ? true : undefined),
      5000,
      'hank subscribed',
    );
    const before = await pollUntil(
      async () => {
        const v = await b2bGet(id);
        return (v.remote as Msg | null)?.state === 'active' ? v : undefined;
      },
      5000,
      'gina active',
    );
    const callId = ((before.remote as Msg).dialog as Msg).callId;

    // The local hub restarts (the browser's socket closes with it), now spreading new SUBSCRIBEs over 2 s.
    await restart(local, { B2B_MAX_SUBSCRIBE_DELAY: '2' });
    await ws.close();
    const after = await b2bGet(id);
    expect(after).toMatchObject({ id, presentity: gina, watcher: 'sip:ops@here.example' });
    expect(((after.remote as Msg).dialog as Msg).callId).toBe(callId);
    await publish(gina, 'open', 'after our restart');
    await pollUntil(
      async () => (noteOf(await b2bGet(id)) === 'after our restart' ? true : undefined),
      5000,
      'state after our restart',
    );
    // hank's only watcher was a browser socket, gone with the restart: the restarted hub ends its dialog.
    await pollUntil(async () => ((await remoteWatchers(hank)).length === 0 ? true : undefined), 5000, 'hank ended');

    // New subscriptions go out at random within b2b.maxSubscribeDelay.
    const spread = [remoteAor('s1'), remoteAor('s2'), remoteAor('s3'), remoteAor('s4')];
    const ids = await Promise.all(spread.map((presentity) => create({ presentity })));
    const created = await pollUntil(
      () => {
        const recs = ids.map(recordOf);
        return recs.every((r) => r?.state === 'active') ? recs.map((r) => r!.createdAt) : undefined;
      },
      6000,
      'every spread SUBSCRIBE answered',
    );
    expect(Math.max(...created) - Math.min(...created)).toBeGreaterThan(0);

    // The remote restarts: it keeps the dialog and NOTIFYs on in it.
    await restart(remote);
    await publish(gina, 'closed', 'after their restart');
    await pollUntil(
      async () => (noteOf(await b2bGet(id)) === 'after their restart' ? true : undefined),
      8000,
      'state after their restart',
    );
    expect((((await b2bGet(id)).remote as Msg).dialog as Msg).callId).toBe(callId);
  });

  it('re-creates a subscription the remote lost (481 to the refresh)', async () => {
    const ivy = remoteAor('ivy');
    const id = await create({ presentity: ivy, expires: 3 });
    const first = await pollUntil(
      () => {
        const r = recordOf(id);
        return r?.state === 'active' && r.dialog ? r : undefined;
      },
      5000,
      'ivy active',
    );
    // The remote starts again on an empty database: the next refresh gets 481, a new dialog is created.
    const lost = await createTestDatabase(kind);
    const kept = remote.db;
    remote.db = lost;
    await restart(remote);
    await kept.drop();
    const again = await pollUntil(
      () => {
        const r = recordOf(id);
        return r?.state === 'active' && r.dialog && r.dialog.callId !== first.dialog!.callId ? r : undefined;
      },
      8000,
      'a new dialog',
    );
    expect(again.dialog).toBeDefined();
    await publish(ivy, 'open', 'found again');
    await pollUntil(
      async () => (noteOf(await b2bGet(id)) === 'found again' ? true : undefined),
      5000,
      'state in the new dialog',
    );
  });
});
