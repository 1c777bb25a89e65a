/**
 * Kamailio restarts (in memory, it forgets every publication and subscription): our outgoing client finds
 * out when it next sends in them — a conditional PUBLISH answered 412, an in-dialog SUBSCRIBE answered 481 —
 * and sets both up again, so Kamailio's watchers see our registrations and our browser sees Kamailio's
 * presence. Short B2B expiries make its refresh come within seconds.
 */
import { nextNotify } from '../utils/presence-e2e';
import { randomToken, type SipTestMessage } from '../utils/sip-test-client';
import { WsClient } from '../utils/ws-test-client';
import { publishPidf, useInterop } from './interop-fixture';
import { escapeRegExp, loggedCallId, notifyAnswered } from './kamailio';

const it_ = useInterop({
  hub: (kam, sipPort) => ({
    SIP_DOMAINS: 'hub.test',
    PUA_REGINFO_OUTBOUND_PROXY: kam.uri,
    PUA_REGINFO_SERVER_ADDRESS: `sip:hub@127.0.0.1:${sipPort}`,
    B2B_PRESENCE_ROUTE: kam.uri,
    B2B_DEFAULT_EXPIRATION: '4',
    B2B_RESUBSCRIBE_DELTA: '1',
    B2B_MIN_RESUBSCRIBE_TIME: '1',
    B2B_ON_ERROR_RETRY_TIME: '1',
    SIP_CLIENT_RETRY_AFTER: '1',
  }),
});

/** A reg watcher at Kamailio; resolves with the first NOTIFY whose body holds `contact`. */
async function regWatcherSees(aor: string, contact: string, timeoutMs: number): Promise<SipTestMessage> {
  const watcher = await it_.kamailioClient('watcher');
  const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'reg', expires: 600 });
  expect(response.status).toBe(200);
  return nextNotify(watcher, dialog.callId, timeoutMs, (m) => m.body.includes(contact));
}

describe('Kamailio restarting under our outgoing client', () => {
  it(
    'our reginfo publication, modified by a REGISTER refresh, is answered 412 by the new Kamailio and published anew',
    it_.traced(async () => {
      const user = `ivan-${randomToken(3)}`;
      const aor = `sip:${user}@hub.test`;
      const phone = await it_.client(it_.hub.sipPort, user, 'hub.test');
      const contact = phone.contactUri(user);
      expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
      await regWatcherSees(aor, contact, 10_000);

      await it_.restartKamailio();
      // The REGISTER refresh changes the binding: a PUBLISH with the old Kamailio's SIP-If-Match gets 412,
      // and the whole document is PUBLISHed again as a new publication.
      expect((await phone.register({ aor, expires: 300 })).status).toBe(200);
      await it_.kam.waitForLog(/^SIP-If-Match: /, 10_000);
      await regWatcherSees(aor, contact, 10_000);
      await phone.register({ aor, expires: 0 });
    }),
  );

  it(
    'a browser B2B subscription is refreshed, answered 481 by the new Kamailio, and subscribed anew',
    it_.traced(async () => {
      const presentity = `sip:judy-${randomToken(3)}@${it_.kam.domain}`;
      const publisher = await it_.kamailioClient('judy');
      const ws = await WsClient.open(it_.hub.httpPort);
      try {
        const answer = await ws.ask({ type: 'subscribe', id: 'j', aor: presentity }, 5000);
        expect(answer.type).not.toBe('error');
        await it_.kam.waitForLog(new RegExp(`interop: in SUBSCRIBE sip:judy-`), 10_000);

        await it_.restartKamailio();
        const from = it_.kam.log().length;
        // The in-dialog refresh gets 481 (Kamailio forgot the dialog); a new SUBSCRIBE to the presentity follows.
        const resubscribed = await it_.kam.waitForLog(
          new RegExp(`interop: in SUBSCRIBE ${escapeRegExp(presentity)} `),
          20_000,
          from,
        );
        const note = `back ${randomToken(3)}`;
        const since = ws.received.length;
        const published = await publishPidf(publisher, presentity, note);
        expect(published.status).toBe(200);
        await ws.next((m) => m.type === 'state' && m.id === 'j' && JSON.stringify(m).includes(note), 10_000, since);
        // Leaving ends the new dialog at Kamailio (answered by its terminating NOTIFY) before the app stops.
        const closedFrom = it_.kam.log().length;
        await ws.close();
        await it_.kam.waitForLog(/interop: in SUBSCRIBE .* expires 0 /, 10_000, closedFrom);
        await it_.kam.waitForLog(notifyAnswered(loggedCallId(resubscribed), '200'), 10_000, closedFrom);
      } finally {
        await ws.close();
      }
    }),
  );
});
