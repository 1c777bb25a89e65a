/**
 * PuaReginfoModule after a kill -9 of our server (a child process, restarted on the same SQLite file and
 * ports), Kamailio running throughout. Our publications to Kamailio ran out there while we were down (short
 * publish expiry): after the restart the current document is published anew, a binding that expired while
 * we were down is published as ended (not first shown alive again), later REGISTERs still reach Kamailio's
 * watchers, and nothing loops. Our subscription at Kamailio goes on, and what changed there while we were down
 * reaches our location table.
 */
import { api, pollUntil, registrationPath } from '../utils/e2e-helpers';
import { nextNotify } from '../utils/presence-e2e';
import { parseReginfo } from '../../src/presence-reginfo/reginfo';
import type { SipTestClient, SipTestMessage } from '../utils/sip-test-client';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { useInterop } from './interop-fixture';
import { sleep } from '../utils/sip-test-client';

const HUB_DOMAIN = 'hub.test';
const PUBLISH_EXPIRES = 4;

const it_ = useInterop();
let db: TestDatabase;
let server: ServerProcess | undefined;
let ports: { sipPort: number; httpPort: number };

async function startServer(): Promise<void> {
  server = await spawnServer(db, ports, {
    SIP_DOMAINS: HUB_DOMAIN,
    PUA_REGINFO_OUTBOUND_PROXY: it_.kam.uri,
    PUA_REGINFO_SERVER_ADDRESS: `sip:hub@127.0.0.1:${ports.sipPort}`,
    PUA_REGINFO_PUBLISH_EXPIRES: String(PUBLISH_EXPIRES),
    REGISTRAR_MIN_EXPIRES: '1',
    REGISTRAR_TIMER_INTERVAL: '1',
    SIP_CLIENT_RETRY_AFTER: '1',
  });
}

beforeAll(async () => {
  db = await createTestDatabase('sqlite');
  ports = { sipPort: await freePort(), httpPort: await freePort() };
  await startServer();
});

afterAll(async () => {
  await server?.kill();
  await db?.drop();
});

/** Contact URIs of a reginfo NOTIFY body with their state, `uri/state/event`. */
function contactStates(m: SipTestMessage): string[] {
  if (m.body === '') return [];
  return parseReginfo(m.body).registrations.flatMap((r) => r.contacts.map((c) => `${c.uri}/${c.state}/${c.event}`));
}

/** A reg watcher at Kamailio for `aor`; resolves with the client and its dialog's Call-ID. */
async function watchAtKamailio(aor: string): Promise<{ watcher: SipTestClient; callId: string }> {
  const watcher = await it_.kamailioClient('watcher');
  const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', expires: 600 });
  expect(response.status).toBe(200);
  return { watcher, callId: dialog.callId };
}

function sees(w: { watcher: SipTestClient; callId: string }, state: string): Promise<SipTestMessage> {
  return nextNotify(w.watcher, w.callId, 20_000, (m) => contactStates(m).some((s) => s.startsWith(state)));
}

async function inLocationTable(aor: string, contact: string): Promise<boolean> {
  const res = await api(ports.httpPort, 'GET', registrationPath(aor));
  return res.status === 200 && res.text.includes(contact);
}

describe('our server killed (-9) and restarted beside Kamailio', () => {
  it(
    'publishes the current state anew, the binding that expired while down as ended, and keeps its subscription',
    it_.traced(async () => {
      // Two AoRs of ours published to Kamailio, one with a binding that runs out while we are down.
      const ann = it_.uniqueAor('ann', HUB_DOMAIN);
      const bea = it_.uniqueAor('bea', HUB_DOMAIN);
      const annWatch = await watchAtKamailio(ann.aor);
      const beaWatch = await watchAtKamailio(bea.aor);
      const annPhone = await it_.client(ports.sipPort, ann.user, HUB_DOMAIN);
      const beaPhone = await it_.client(ports.sipPort, bea.user, HUB_DOMAIN);
      const annContact = annPhone.contactUri();
      const beaContact = beaPhone.contactUri();
      expect((await annPhone.register({ aor: ann.aor, expires: 300 })).status).toBe(200);
      expect((await beaPhone.register({ aor: bea.aor, expires: 3 })).status).toBe(200);
      await sees(annWatch, `${annContact}/active`);
      await sees(beaWatch, `${beaContact}/active`);

      // An AoR of Kamailio's we subscribe to.
      const cat = it_.uniqueAor('cat', it_.kam.domain);
      const from = it_.kam.log().length;
      const created = await api(ports.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: cat.aor, expires: 600 });
      expect(created.status).toBe(201);
      await it_.kam.waitForLog(new RegExp(`interop: in SUBSCRIBE sip:${cat.user}@`), 10_000, from);

      await server?.kill('SIGKILL');
      // While we are down: bea's binding and both publications run out; cat registers at Kamailio, whose
      // NOTIFY to us goes unanswered.
      const catPhone = await it_.kamailioClient(cat.user);
      const catContact = catPhone.contactUri();
      expect((await catPhone.register({ aor: cat.aor, expires: 300 })).status).toBe(200);
      await sleep((PUBLISH_EXPIRES + 2) * 1000);
      await startServer();

      // Both publications ran out at Kamailio: ann's is published anew with its live binding; bea's next
      // document tells that its binding expired (never the stale document that still showed it active).
      const beaNext = await nextNotify(beaWatch.watcher, beaWatch.callId, 20_000, (m) => m.body.includes(beaContact));
      expect(contactStates(beaNext)).toEqual([`${beaContact}/terminated/expired`]);
      await sees(annWatch, `${annContact}/active`);
      expect((await annPhone.register({ aor: ann.aor, expires: 600 })).status).toBe(200);
      const refreshed = await nextNotify(annWatch.watcher, annWatch.callId, 10_000, (m) =>
        /expires="(59\d|600)"/.test(m.body),
      );
      expect(contactStates(refreshed)).toEqual([`${annContact}/active/registered`]);

      // No loop (a 412 answered by a new publication, refreshed into another 412): over a refresh period, about
      // one PUBLISH per AoR.
      const quietFrom = it_.kam.log().length;
      await sleep(PUBLISH_EXPIRES * 1000);
      const publishes =
        it_.kam
          .log()
          .slice(quietFrom)
          .match(/interop: in PUBLISH /g) ?? [];
      expect(publishes.length).toBeLessThanOrEqual(6);

      // cat's registration made while we were down reaches our location table; its removal too.
      await pollUntil(
        async () => ((await inLocationTable(cat.aor, catContact)) ? true : undefined),
        20_000,
        `${cat.aor} in our location table`,
      );
      expect((await catPhone.register({ aor: cat.aor, expires: 0 })).status).toBe(200);
      await pollUntil(
        async () => ((await inLocationTable(cat.aor, catContact)) ? undefined : true),
        10_000,
        `${cat.aor} gone from our location table`,
      );
    }),
    120_000,
  );
});
