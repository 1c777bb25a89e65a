/**
 * B2bModule against a Kamailio presence server: a subscription made through REST and one made by a browser's
 * WebSocket `subscribe` to a presentity Kamailio serves become SIP SUBSCRIBEs there, and a PUBLISH of PIDF at
 * Kamailio reaches the REST state and the WebSocket client. Also with Kamailio challenging our SUBSCRIBE.
 */
import { api, pollUntil } from '../utils/e2e-helpers';
import { randomToken, type SipTestMessage } from '../utils/sip-test-client';
import { WsClient, type Msg } from '../utils/ws-test-client';
import { sendWithCredentials } from './digest-answer';
import { expectStatus } from './hub';
import {
  challengingKamailio,
  KAMAILIO_ACCOUNT as ACCOUNT,
  OPEN_KAMAILIO,
  publishPidf,
  useInterop,
  type KamailioCase,
} from './interop-fixture';
import { loggedCallId, notifyAnswered } from './kamailio';

const CASES: readonly KamailioCase[] = [OPEN_KAMAILIO, challengingKamailio('SHA-256', 'www')];

interface B2bSubscription {
  readonly id: string;
  readonly remote: { readonly state: string; readonly lastStatus: number } | null;
  readonly state: { readonly contentType: string; readonly body: string } | null;
}

describe.each(CASES)('B2bModule against $name', ({ kamailio, env }) => {
  const it_ = useInterop({
    kamailio,
    hub: (kam) => ({ SIP_DOMAINS: 'hub.test', B2B_PRESENCE_ROUTE: kam.uri, ...env }),
  });
  const sockets: WsClient[] = [];

  /** PUBLISHes PIDF for `presentity` at Kamailio (with credentials when challenged). */
  async function publishAtKamailio(presentity: string, note: string): Promise<SipTestMessage> {
    const publisher = await it_.kamailioClient('pub');
    return sendWithCredentials(
      (headers) => publishPidf(publisher, presentity, note, headers),
      (r) => r,
      ACCOUNT,
      'PUBLISH',
      presentity,
    );
  }

  /**
   * Waits until our first NOTIFY from Kamailio for `presentity` (right after its 200 to our SUBSCRIBE) is
   * answered 200; resolves with the dialog's Call-ID.
   */
  async function subscribedAtKamailio(presentity: string, from: number): Promise<string> {
    const user = presentity.slice(4, presentity.indexOf('@'));
    const line = await it_.kam.waitForLog(new RegExp(`interop: in SUBSCRIBE sip:${user}@`), 10_000, from);
    const callId = loggedCallId(line);
    await it_.kam.waitForLog(notifyAnswered(callId, '200'), 10_000, from);
    return callId;
  }

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  it(
    'POST /api/b2b/subscriptions to a presentity at Kamailio: its PUBLISH reaches the REST state; DELETE unsubscribes there',
    it_.traced(async () => {
      const presentity = `sip:gina-${randomToken(3)}@${it_.kam.domain}`;
      const from = it_.kam.log().length;
      const created = await api(it_.hub.httpPort, 'POST', '/api/b2b/subscriptions', {
        presentity,
        watcher: 'sip:ops@hub.test',
        expires: 600,
      });
      expectStatus(created, 201);
      const id = (created.json as unknown as B2bSubscription).id;
      const get = async (): Promise<B2bSubscription> =>
        (await api(it_.hub.httpPort, 'GET', `/api/b2b/subscriptions/${id}`)).json as unknown as B2bSubscription;
      await pollUntil(
        async () => ((await get()).remote?.state === 'active' ? true : undefined),
        10_000,
        'remote subscription active',
      );
      const callId = await subscribedAtKamailio(presentity, from);

      const note = `rest ${randomToken(3)}`;
      expect((await publishAtKamailio(presentity, note)).status).toBe(200);
      const state = await pollUntil(
        async () => {
          const s = (await get()).state;
          return s?.body.includes(note) ? s : undefined;
        },
        10_000,
        'the PUBLISHed note in the REST state',
      );
      expect(state.contentType).toBe('application/pidf+xml');

      const removedFrom = it_.kam.log().length;
      expectStatus(await api(it_.hub.httpPort, 'DELETE', `/api/b2b/subscriptions/${id}`), 204);
      // In the dialog: the Request-URI is Kamailio's Contact, the To the presentity.
      const ended = await it_.kam.waitForLog(/interop: in SUBSCRIBE .* expires 0 /, 10_000, removedFrom);
      expect(ended).toContain(`to ${presentity} event presence expires 0 `);
      await it_.kam.waitForLog(notifyAnswered(callId, '200'), 10_000, removedFrom);
    }),
  );

  it(
    'a WebSocket subscribe to a presentity at Kamailio: its PUBLISH reaches the browser as a state',
    it_.traced(async () => {
      const presentity = `sip:hank-${randomToken(3)}@${it_.kam.domain}`;
      const ws = await WsClient.open(it_.hub.httpPort);
      sockets.push(ws);
      const from = it_.kam.log().length;
      const answer = await ws.ask({ type: 'subscribe', id: 'k', aor: presentity }, 5000);
      expect(answer.type).not.toBe('error');
      const callId = await subscribedAtKamailio(presentity, from);

      const note = `ws ${randomToken(3)}`;
      expect((await publishAtKamailio(presentity, note)).status).toBe(200);
      const state = await ws.next(
        (m: Msg) => m.type === 'state' && m.id === 'k' && JSON.stringify(m).includes(note),
        10_000,
        0,
      );
      expect(state).toMatchObject({ type: 'state', id: 'k', aor: presentity });

      // The browser leaves: its remote subscription ends at Kamailio, which sends the terminating NOTIFY.
      const closedFrom = it_.kam.log().length;
      await ws.close();
      const ended = await it_.kam.waitForLog(/interop: in SUBSCRIBE .* expires 0 /, 10_000, closedFrom);
      expect(ended).toContain(`to ${presentity} event presence expires 0 `);
      await it_.kam.waitForLog(notifyAnswered(callId, '200'), 10_000, closedFrom);
    }),
  );
});
