/**
 * Kamailio restarts (in memory, it forgets every publication and subscription): our outgoing client finds
 * out when it next sends in them — a conditional PUBLISH answered 412, an in-dialog SUBSCRIBE answered 481 —
 * and sets both up again, so Kamailio's watchers see our registrations and our browser sees Kamailio's
 * presence. Short B2B expiries make its refresh come within seconds.
 */
import { nextNotify } from '../utils/presence-e2e';
import { pidf, randomToken, SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { WsClient } from '../utils/ws-test-client';
import { startHub, type Hub } from './hub';
import { escapeRegExp, loggedCallId, notifyAnswered, startKamailio, traced, type RunningKamailio } from './kamailio';

let kam: RunningKamailio;
let hub: Hub;
const clients: SipTestClient[] = [];

async function client(port: number, user: string, domain: string): Promise<SipTestClient> {
  const c = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port, user, domain });
  c.autoAnswer('NOTIFY', 200);
  clients.push(c);
  return c;
}

/** Stops Kamailio and starts a fresh one (nothing remembered) on the same port. */
async function restartKamailio(): Promise<void> {
  const port = kam.port;
  await kam.stop();
  kam = await startKamailio({ port });
}

/** A reg watcher at Kamailio; resolves with the first NOTIFY whose body holds `contact`. */
async function regWatcherSees(aor: string, contact: string, timeoutMs: number): Promise<SipTestMessage> {
  const watcher = await client(kam.port, 'watcher', kam.domain);
  const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', expires: 600 });
  expect(response.status).toBe(200);
  return nextNotify(watcher, dialog.callId, timeoutMs, (m) => m.body.includes(contact));
}

beforeAll(async () => {
  kam = await startKamailio();
  hub = await startHub((sipPort) => ({
    SIP_DOMAINS: 'hub.test',
    PUA_REGINFO_OUTBOUND_PROXY: kam.uri,
    PUA_REGINFO_SERVER_ADDRESS: `sip:hub@127.0.0.1:${sipPort}`,
    B2B_PRESENCE_ROUTE: kam.uri,
    B2B_DEFAULT_EXPIRATION: '4',
    B2B_RESUBSCRIBE_DELTA: '1',
    B2B_MIN_RESUBSCRIBE_TIME: '1',
    B2B_ON_ERROR_RETRY_TIME: '1',
    SIP_CLIENT_RETRY_AFTER: '1',
  }));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await hub?.close();
  await kam?.stop();
});

describe('Kamailio restarting under our outgoing client', () => {
  it(
    'our reginfo publication, modified by a REGISTER refresh, is answered 412 by the new Kamailio and published anew',
    traced(
      () => kam,
      async () => {
        const user = `ivan-${randomToken(3)}`;
        const aor = `sip:${user}@hub.test`;
        const phone = await client(hub.sipPort, user, 'hub.test');
        const contact = phone.contactUri(user);
        expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
        await regWatcherSees(aor, contact, 10_000);

        await restartKamailio();
        // The REGISTER refresh changes the binding: a PUBLISH with the old Kamailio's SIP-If-Match gets 412,
        // and the whole document is PUBLISHed again as a new publication.
        expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
        await kam.waitForLog(/^SIP-If-Match: /, 10_000);
        await regWatcherSees(aor, contact, 10_000);
        await phone.register({ aor, expires: 0 });
      },
    ),
  );

  it(
    'a browser B2B subscription is refreshed, answered 481 by the new Kamailio, and subscribed anew',
    traced(
      () => kam,
      async () => {
        const presentity = `sip:judy-${randomToken(3)}@${kam.domain}`;
        const publisher = await client(kam.port, 'judy', kam.domain);
        const ws = await WsClient.open(hub.httpPort);
        try {
          const answer = await ws.ask({ type: 'subscribe', id: 'j', aor: presentity }, 5000);
          expect(answer.type).not.toBe('error');
          await kam.waitForLog(new RegExp(`interop: in SUBSCRIBE sip:judy-`), 10_000);

          await restartKamailio();
          const from = kam.log().length;
          // The in-dialog refresh gets 481 (Kamailio forgot the dialog); a new SUBSCRIBE to the presentity follows.
          const resubscribed = await kam.waitForLog(
            new RegExp(`interop: in SUBSCRIBE ${escapeRegExp(presentity)} `),
            20_000,
            from,
          );
          const note = `back ${randomToken(3)}`;
          const since = ws.received.length;
          const published = await publisher.publish({
            uri: presentity,
            event: 'presence',
            expires: 600,
            body: pidf(presentity, 'open', note),
          });
          expect(published.status).toBe(200);
          await ws.next((m) => m.type === 'state' && m.id === 'j' && JSON.stringify(m).includes(note), 10_000, since);
          // Leaving ends the new dialog at Kamailio (answered by its terminating NOTIFY) before the app stops.
          const closedFrom = kam.log().length;
          await ws.close();
          await kam.waitForLog(/interop: in SUBSCRIBE .* expires 0 /, 10_000, closedFrom);
          await kam.waitForLog(notifyAnswered(loggedCallId(resubscribed), '200'), 10_000, closedFrom);
        } finally {
          await ws.close();
        }
      },
    ),
  );
});
