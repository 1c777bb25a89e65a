/**
 * Issue 14 acceptance, published source and aggregation: reginfo PUBLISHed (as pua_reginfo sends it) reaches
 * reg watchers; a malformed document gets 400 and changes nothing, another type 415. With
 * presenceReginfo.aggregatePresentities off a full-state NOTIFY carries the local registrations and the newest
 * publication's; on, every publication's, so the first NOTIFY after SUBSCRIBE is complete.
 */
import type { RunningApp } from '../../src/app.factory';
import { api } from '../utils/e2e-helpers';
import { notifyArrives, openClient, portsOf, uniqueAor } from '../utils/presence-e2e';
import { publishedReginfo, REGINFO_TYPE, RegWatch } from '../utils/reginfo-e2e';
import type { SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

describe.each(databaseKinds())('reginfo PUBLISH and aggregation on %s', (kind) => {
  let db: TestDatabase;
  const apps: RunningApp[] = [];
  const clients: SipTestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const a of apps) await a.close();
    await db.drop();
  });

  async function start(aggregate: boolean): Promise<RunningApp> {
    const app = await startTestApp(db, {
      PRESENCE_REGINFO_AGGREGATE_PRESENTITIES: String(aggregate),
      // Short publications allowed, swept every second, so that one expires within the test.
      PA_PUBLISH_MIN_EXPIRES: '1',
      PA_TIMER_INTERVAL: '1',
    });
    apps.push(app);
    return app;
  }

  async function client(app: RunningApp): Promise<SipTestClient> {
    const c = await openClient(portsOf(app), 'udp');
    clients.push(c);
    return c;
  }

  /** The AoR's reg state over REST without what only the clock changes (seconds registered, seconds left). */
  const restState = async (app: RunningApp, aor: string): Promise<unknown> => {
    const { json } = await api(app.httpPort, 'GET', `/api/presentities/${encodeURIComponent(aor)}/reg`);
    const ticking = new Set(['durationRegistered', 'expires']);
    return JSON.parse(JSON.stringify(json), (key, value: unknown) => (ticking.has(key) ? undefined : value));
  };

  it('without aggregation: a publication reaches watchers, the newest one replaces the older in NOTIFYs', async () => {
    const app = await start(false);
    const aor = uniqueAor('alice');
    const watcher = await client(app);
    const pub1 = await client(app);
    const pub2 = await client(app);
    const phone = await client(app);
    expect((await phone.register({ aor, expires: 600 })).status).toBe(200);

    const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', from: aor, expires: 600 });
    expect(response.status).toBe(200);
    const watch = new RegWatch(watcher, dialog);
    const first = await watch.next();
    expect(first.doc.registrations.map((r) => r.state)).toEqual(['active']);

    const body1 = publishedReginfo(aor, 'far1', [{ id: 'f1', uri: 'sip:alice@far1.example.org' }]);
    const p1 = await pub1.publish({ uri: aor, event: 'reg', expires: 600, contentType: REGINFO_TYPE, body: body1 });
    expect(p1.status).toBe(200);
    expect(p1.header('sip-etag')).toBeTruthy();
    const after1 = await watch.next();
    expect(after1.doc.state).toBe('full');
    expect(after1.doc.registrations.map((r) => r.id)).toEqual([first.doc.registrations[0].id, 'far1']);

    const body2 = publishedReginfo(aor, 'far2', [{ id: 'f2', uri: 'sip:alice@far2.example.org' }]);
    const p2 = await pub2.publish({ uri: aor, event: 'reg', expires: 600, contentType: REGINFO_TYPE, body: body2 });
    expect(p2.status).toBe(200);
    const after2 = await watch.next();
    expect(after2.doc.registrations.map((r) => r.id)).toEqual([first.doc.registrations[0].id, 'far2']);

    // Malformed reginfo: 400 naming the fault, no NOTIFY, the state unchanged.
    const before = await restState(app, aor);
    const bad = [
      ['<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"', 'malformed XML'],
      ['<reginfo xmlns="urn:example" version="0" state="full"/>', 'namespace'],
      [body1.replace('state="active"', 'state="sleeping"'), 'sleeping'],
      [body1.replace('event="registered"', 'event="teleported"'), 'teleported'],
    ];
    for (const [body, fault] of bad) {
      const res = await pub1.publish({ uri: aor, event: 'reg', expires: 600, contentType: REGINFO_TYPE, body });
      expect(res.status).toBe(400);
      expect(res.reason).toContain(fault);
    }
    // Another type: 415 with Accept.
    const pidf = await pub1.publish({
      uri: aor,
      event: 'reg',
      expires: 600,
      contentType: 'application/pidf+xml',
      body: '<x/>',
    });
    expect(pidf.status).toBe(415);
    expect(pidf.header('accept')).toBe(REGINFO_TYPE);
    expect(await notifyArrives(watcher, dialog.callId, 500)).toBe(false);
    expect(await restState(app, aor)).toEqual(before);

    // Removing the newest publication brings the older one back.
    const gone = await pub2.publish({ uri: aor, event: 'reg', expires: 0, ifMatch: p2.header('sip-etag')! });
    expect(gone.status).toBe(200);
    const after3 = await watch.next();
    expect(after3.doc.registrations.map((r) => r.id)).toEqual([first.doc.registrations[0].id, 'far1']);
  });

  it('with aggregation: the first NOTIFY after SUBSCRIBE holds every publication', async () => {
    const app = await start(true);
    const aor = uniqueAor('bob');
    const watcher = await client(app);
    const pub1 = await client(app);
    const pub2 = await client(app);
    const etags: string[] = [];
    for (const [c, id] of [
      [pub1, 'far1'],
      [pub2, 'far2'],
    ] as const) {
      const body = publishedReginfo(aor, id, [{ id: `${id}-c`, uri: `sip:bob@${id}.example.org` }]);
      const res = await c.publish({ uri: aor, event: 'reg', expires: 600, contentType: REGINFO_TYPE, body });
      expect(res.status).toBe(200);
      etags.push(res.header('sip-etag')!);
    }
    const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', from: aor, expires: 600 });
    expect(response.status).toBe(200);
    const watch = new RegWatch(watcher, dialog);
    const first = await watch.next();
    expect(first.doc.state).toBe('full');
    // No local binding: the AoR is described by the publications only.
    expect(first.doc.registrations.map((r) => r.id)).toEqual(['far1', 'far2']);
    expect(first.doc.registrations.flatMap((r) => r.contacts.map((c) => c.uri))).toEqual([
      'sip:bob@far1.example.org',
      'sip:bob@far2.example.org',
    ]);

    // A modification of one publication: full state with both again.
    const body = publishedReginfo(aor, 'far1', [
      { id: 'far1-c', uri: 'sip:bob@far1.example.org' },
      { id: 'far1-d', uri: 'sip:bob@desk.far1.example.org' },
    ]);
    const modified = await pub1.publish({
      uri: aor,
      event: 'reg',
      expires: 600,
      ifMatch: etags[0],
      contentType: REGINFO_TYPE,
      body,
    });
    expect(modified.status).toBe(200);
    const next = await watch.next();
    expect(next.doc.registrations.map((r) => [r.id, r.contacts.length])).toEqual([
      ['far2', 1],
      ['far1', 2],
    ]);

    // A publication that expires leaves the NOTIFYs: full state without it.
    const pub3 = await client(app);
    const brief = publishedReginfo(aor, 'far3', [{ id: 'far3-c', uri: 'sip:bob@far3.example.org' }]);
    const short = await pub3.publish({ uri: aor, event: 'reg', expires: 1, contentType: REGINFO_TYPE, body: brief });
    expect(short.status).toBe(200);
    expect((await watch.next()).doc.registrations.map((r) => r.id)).toEqual(['far2', 'far1', 'far3']);
    const expired = await watch.next(5000);
    expect(expired.doc.state).toBe('full');
    expect(expired.doc.registrations.map((r) => r.id)).toEqual(['far2', 'far1']);
  });
});
