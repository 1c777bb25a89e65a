/**
 * Issue 12, points 5, 6 and 8: limits an anonymous client cannot push through (publications per presentity,
 * body size, pages of lists), NOTIFYs too large for a datagram (RFC 3261 §18.1.1), and REST bad input —
 * against the whole app on real sockets and a real database.
 */
import { Logger } from '@nestjs/common';
import WebSocket from 'ws';
import { api } from '../utils/e2e-helpers';
import {
  eventually,
  listedSubscriptions,
  nextNotify,
  openClient,
  startPresenceApp,
  tupleIds,
  uniqueAor,
  type ServerPorts,
} from '../utils/presence-e2e';
import { pidf, type SipTestClient } from '../utils/sip-test-client';
import { databaseKinds } from '../utils/test-database';

const MAX_PUBLICATIONS = 3;
const MAX_BODY = 48_000;
/** SIP_T1=50 makes Timer F 3.2 s, so that a watcher nobody reaches is given up on quickly. */
const ENV = {
  PA_MAX_PUBLICATIONS_PER_PRESENTITY: String(MAX_PUBLICATIONS),
  PA_PUBLISH_MAX_BODY_SIZE: String(MAX_BODY),
  SIP_T1: '50',
};
const PIDF = { 'content-type': 'application/pidf+xml' };

const presencePath = (aor: string, query = ''): string =>
  `/api/presentities/${encodeURIComponent(aor)}/presence${query}`;

/** A PIDF document of about `bytes` bytes: one tuple whose note is that long. */
const bigPidf = (aor: string, tupleId: string, bytes: number): string =>
  pidf(aor, 'open', `${tupleId} `.padEnd(bytes, 'x'), tupleId);

/** A browser socket on /ws that sends a message and waits for the answer with the same id. */
async function openWs(
  httpPort: number,
): Promise<{ ask(msg: Record<string, unknown> & { id: string }): Promise<Record<string, unknown>>; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ask: (msg) =>
      new Promise((resolve) => {
        const onMessage = (data: Buffer): void => {
          const answer = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
          if (answer.id !== msg.id) return;
          ws.off('message', onMessage);
          resolve(answer);
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify(msg));
      }),
    close: () => {
      ws.close();
    },
  };
}

describe.each(databaseKinds())('presence limits and bad input on %s', (kind) => {
  let server: Awaited<ReturnType<typeof startPresenceApp>>;
  let ports: ServerPorts;
  let publisher: SipTestClient;

  beforeAll(async () => {
    server = await startPresenceApp(kind, ENV);
    ports = server.ports;
    publisher = await openClient(ports, 'udp');
  });

  afterAll(async () => {
    await publisher.close();
    await server.stop();
  });

  const put = (aor: string, body: string, query = '') => api(ports.http, 'PUT', presencePath(aor, query), body, PIDF);

  /** `watcher` subscribes to a new presentity and takes the first NOTIFY; then documents (tuple id → bytes) are published. */
  async function watchThenPublish(watcher: SipTestClient, prefix: string, documents: Record<string, number>) {
    const aor = uniqueAor(prefix);
    const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'presence', expires: 300 });
    expect(response.status).toBe(200);
    const first = await nextNotify(watcher, dialog.callId);
    for (const [tupleId, bytes] of Object.entries(documents)) {
      expect((await put(aor, bigPidf(aor, tupleId, bytes))).status).toBe(200);
    }
    return { aor, callId: dialog.callId, first };
  }

  describe('NOTIFYs too large for a datagram (RFC 3261 §18.1.1)', () => {
    it('reach a UDP watcher over TCP at its contact address, the top Via saying TCP', async () => {
      const watcher = await openClient(ports, 'udp', { listenTcp: true });
      try {
        const { aor, callId, first } = await watchThenPublish(watcher, 'big', { first: 40_000, second: 40_000 });
        expect(first.receivedOver).toBe('udp');
        const big = await nextNotify(watcher, callId, 10_000, (m) => m.body.length > 80_000);
        expect(big.receivedOver).toBe('tcp');
        expect(big.headerValues('via')[0]).toMatch(/^SIP\/2\.0\/TCP /);
        expect(tupleIds(big.body).sort()).toEqual(['first', 'second']);
        expect(big.cseq!.seq).toBeGreaterThan(first.cseq!.seq);
        // Answered over the connection: the subscription lives on.
        await new Promise((r) => setTimeout(r, 300));
        expect(await listedSubscriptions(ports.http, aor)).toHaveLength(1);
      } finally {
        await watcher.close();
      }
    });

    it('go to a watcher without TCP as one large datagram when they fit in one', async () => {
      const watcher = await openClient(ports, 'udp');
      try {
        const { aor, callId } = await watchThenPublish(watcher, 'mid', { only: 20_000 });
        const notify = await nextNotify(watcher, callId, 10_000, (m) => m.body.length > 20_000);
        expect(notify.receivedOver).toBe('udp');
        expect(notify.headerValues('via')[0]).toMatch(/^SIP\/2\.0\/UDP /);
        expect(await listedSubscriptions(ports.http, aor)).toHaveLength(1);
      } finally {
        await watcher.close();
      }
    });

    it('end the subscription with a warning in the log when the watcher is reachable by neither', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      const watcher = await openClient(ports, 'udp');
      try {
        const { aor } = await watchThenPublish(watcher, 'lost', { first: 40_000, second: 40_000 });
        await eventually(
          async () => ((await listedSubscriptions(ports.http, aor))?.length === 0 ? true : undefined),
          10_000,
          'the subscription of the unreachable watcher ended',
        );
        const warnings = warn.mock.calls.map((c) => String(c[0]));
        expect(warnings.find((w) => w.includes(aor))).toMatch(/answered 503 .*too large for UDP.*subscription ended/);
        expect(watcher.received.some((m) => m.body.length > 80_000)).toBe(false);
      } finally {
        warn.mockRestore();
        await watcher.close();
      }
    });
  });

  describe(`at most ${MAX_PUBLICATIONS} publications per presentity and event`, () => {
    it('refuses the next one with 403 over SIP, REST and WS; the others stay and refresh', async () => {
      const aor = uniqueAor('cap');
      const tags: string[] = [];
      for (let i = 0; i < MAX_PUBLICATIONS; i++) {
        const res = await publisher.publish({
          uri: aor,
          event: 'presence',
          expires: 600,
          body: pidf(aor, 'open', `n${i}`, `t${i}`),
        });
        expect(res.status).toBe(200);
        tags.push(res.header('sip-etag')!);
      }
      const sip = await publisher.publish({ uri: aor, event: 'presence', body: pidf(aor, 'open', 'one more', 'tx') });
      expect(sip.status).toBe(403);

      const rest = await api(ports.http, 'PUT', presencePath(aor), { status: 'open' });
      expect(rest.status).toBe(403);
      expect(rest.json).toMatchObject({ statusCode: 403, field: 'aor' });

      const ws = await openWs(ports.http);
      try {
        const refused = await ws.ask({ type: 'publish', id: 'p', aor, status: 'open' });
        expect(refused).toMatchObject({ type: 'error', field: 'aor' });
      } finally {
        ws.close();
      }

      const refresh = await publisher.publish({ uri: aor, event: 'presence', expires: 600, ifMatch: tags[0] });
      expect(refresh.status).toBe(200);
      const state = await api(ports.http, 'GET', presencePath(aor));
      expect(state.json.publications).toHaveLength(MAX_PUBLICATIONS);
    });
  });

  describe(`PUBLISH bodies up to ${MAX_BODY} bytes`, () => {
    it('answers 413 over SIP and 413 naming body over REST', async () => {
      const aor = uniqueAor('fat');
      const body = bigPidf(aor, 'fat', MAX_BODY + 1000);
      const sip = await publisher.publish({ uri: aor, event: 'presence', body });
      expect(sip.status).toBe(413);
      const rest = await put(aor, body);
      expect(rest.status).toBe(413);
      expect(rest.json).toMatchObject({ statusCode: 413, field: 'body' });
      expect(String(rest.json.message)).toContain(String(MAX_BODY));
      expect((await put(aor, bigPidf(aor, 'fits', MAX_BODY - 1000))).status).toBe(200);
    });
  });

  describe('GET /api/subscriptions in pages', () => {
    it('gives page and limit (at most 500) with the total', async () => {
      const aor = uniqueAor('paged');
      const ws = await openWs(ports.http);
      try {
        for (let i = 0; i < 120; i++) {
          expect(await ws.ask({ type: 'subscribe', id: `s${i}`, aor })).toMatchObject({ type: 'state' });
        }
        const q = `/api/subscriptions?presentity=${encodeURIComponent(aor)}`;
        const first = await api(ports.http, 'GET', q);
        expect(first.json).toMatchObject({ total: 120, page: 1, limit: 50 });
        expect(first.json.items).toHaveLength(50);
        const third = await api(ports.http, 'GET', `${q}&page=3&limit=50`);
        expect(third.json).toMatchObject({ total: 120, page: 3, limit: 50 });
        expect(third.json.items).toHaveLength(20);
        const all = await api(ports.http, 'GET', `${q}&limit=500`);
        expect(all.json.items).toHaveLength(120);
        const ids = new Set(
          [...(first.json.items as { id: string }[]), ...(third.json.items as { id: string }[])].map((s) => s.id),
        );
        expect(ids.size).toBe(70);
        expect((await api(ports.http, 'GET', `${q}&page=4`)).json.items).toEqual([]);
        for (const bad of ['limit=501', 'limit=0', 'page=0', 'limit=x']) {
          const res = await api(ports.http, 'GET', `${q}&${bad}`);
          expect(res.status).toBe(400);
          expect(res.json.field).toBe(bad.split('=')[0]);
        }
      } finally {
        ws.close();
      }
    });
  });

  describe('REST bad input', () => {
    const alice = 'sip:alice-limits@example.com';

    it.each([
      ['GET', '/api/presentities/sip:a%00b@example.com/presence', 'aor'],
      ['GET', '/api/presentities/sip:ab@example.com%0A/presence', 'aor'],
      ['GET', '/api/presentities/sip:a%1Bb@example.com/presence?event=presence', 'aor'],
      ['PUT', '/api/presentities/sip:a%7Fb@example.com/presence', 'aor'],
      ['DELETE', '/api/presentities/sip:a%01b@example.com/presence', 'aor'],
      ['GET', '/api/registrations/sip:a%00b@example.com', 'aor'],
      ['DELETE', '/api/registrations/sip:a%00b@example.com/contacts/x', 'aor'],
      ['GET', '/api/registrations/sip:a%00b@example.com/attributes/k', 'aor'],
      ['GET', '/api/subscriptions?presentity=sip:a%00b@example.com', 'presentity'],
      ['GET', `/api/presentities/${alice}/presence?event[]=presence`, 'event'],
      ['GET', `/api/presentities/${alice}/presence?event=presence&event=presence`, 'event'],
      ['PUT', `/api/presentities/${alice}/presence?expires=60&expires=70`, 'expires'],
      ['PUT', `/api/presentities/${alice}/presence?event[x]=presence`, 'event'],
      ['DELETE', `/api/presentities/${alice}/presence?event=presence&event=reg`, 'event'],
      ['GET', '/api/subscriptions?kind=ws&kind=sip', 'kind'],
      ['GET', '/api/subscriptions?event[]=presence', 'event'],
      ['GET', '/api/subscriptions?page[]=1', 'page'],
      ['GET', '/api/subscriptions?presentity=sip:a@b.c&presentity=sip:d@b.c', 'presentity'],
      ['GET', '/api/registrations?limit=5&limit=6', 'limit'],
      ['GET', '/api/registrations?domain[]=location', 'domain'],
      ['GET', `/api/registrations/${alice}?domain=a&domain=b`, 'domain'],
    ])('%s %s → 400 naming %s', async (method, path, field) => {
      const body = method === 'PUT' ? pidf(alice) : undefined;
      const res = await api(ports.http, method, path, body, body === undefined ? {} : PIDF);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ statusCode: 400, field });
    });

    it("serves a PIDF whose entity names another AoR with the path's AoR as entity (rewritten, not refused)", async () => {
      const aor = uniqueAor('entity');
      expect((await put(aor, pidf('sip:mallory@example.com', 'open', 'mine'))).status).toBe(200);
      const doc = await fetch(`http://127.0.0.1:${ports.http}${presencePath(aor)}`, {
        headers: { Accept: 'application/pidf+xml' },
      });
      const text = await doc.text();
      expect(text).toContain(`entity="${aor}"`);
      expect(text).not.toContain('mallory');
      expect(text).toContain('mine');
      expect((await api(ports.http, 'GET', presencePath(aor))).json.entity).toBe(aor);
    });
  });
});
