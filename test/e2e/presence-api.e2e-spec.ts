/**
 * Issue "PaModule", points 6 and 7: REST presence and subscriptions (/api) and the browser WebSocket (/ws),
 * against the whole app on real sockets and a real database.
 */
import WebSocket from 'ws';
import request from 'supertest';
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { validateXml } from '../utils/xml-schema';
import { WsClient, type Msg } from '../utils/ws-test-client';

const basic = (m: Msg): string => JSON.stringify(m.state);
const isState = (id: unknown, text: string) => (m: Msg) => m.type === 'state' && m.id === id && basic(m).includes(text);

async function eventually(check: () => Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let aorCounter = 0;
const uniqueAor = (user: string): string => `sip:${user}-${process.pid}-${aorCounter++}@example.com`;

describe.each(databaseKinds())('presence REST and browser WebSocket on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let http: ReturnType<typeof request>;
  const clients: WsClient[] = [];

  const openWs = async (): Promise<WsClient> => {
    const c = await WsClient.open(app.httpPort);
    clients.push(c);
    return c;
  };
  const path = (aor: string): string => `/api/presentities/${encodeURIComponent(aor)}/presence`;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, { LOG_LEVEL: 'warn' });
    http = request(`http://127.0.0.1:${app.httpPort}`);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  describe('REST', () => {
    it('PUT JSON, then GET JSON and GET PIDF (schema-valid)', async () => {
      const aor = uniqueAor('alice');
      const put = await http.put(path(aor)).send({ status: 'open', note: 'At my desk', expires: 600 }).expect(200);
      expect(put.body).toEqual({ etag: expect.any(String), expires: 600 });
      expect(put.headers.etag).toBe(`"${put.body.etag}"`);

      const json = await http.get(`${path(aor)}?event=presence`).expect(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.stringify(json.body)).toContain('At my desk');
      expect(json.body.publications).toEqual([expect.objectContaining({ etag: put.body.etag, source: 'rest' })]);
      // The AoR may also be written as it is, and without the scheme.
      const plain = await http.get(`/api/presentities/${aor}/presence`).expect(200);
      expect(plain.body.publications).toHaveLength(1);
      const bare = await http.get(`/api/presentities/${aor.slice(4)}/presence`).expect(200);
      expect(bare.body.publications).toHaveLength(1);

      const xml = await fetch(`http://127.0.0.1:${app.httpPort}${path(aor)}`, {
        headers: { Accept: 'application/pidf+xml' },
      });
      expect(xml.status).toBe(200);
      expect(xml.headers.get('content-type')).toMatch(/^application\/pidf\+xml/);
      const doc = await xml.text();
      expect(doc).toContain('<basic>open</basic>');
      expect(doc).toContain(`entity="${aor}"`);
      const valid = validateXml(doc, 'test/fixtures/xsd/pidf.xsd');
      expect(valid).toEqual({ ok: true, errors: '' });
    });

    it('accepts a raw PIDF body', async () => {
      const aor = uniqueAor('raw');
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${aor}">` +
        '<tuple id="phone"><status><basic>open</basic></status><note>raw</note></tuple></presence>';
      const put = await http
        .put(`${path(aor)}?expires=300`)
        .set('Content-Type', 'application/pidf+xml')
        .send(body);
      expect(put.status).toBe(200);
      expect(put.body.expires).toBe(300);
      const json = await http.get(path(aor)).expect(200);
      expect(JSON.stringify(json.body)).toContain('raw');
    });

    it('refreshes and modifies with If-Match; 412 on an unknown entity tag', async () => {
      const aor = uniqueAor('bob');
      const first = await http.put(path(aor)).send({ status: 'open' }).expect(200);
      const modified = await http
        .put(path(aor))
        .set('If-Match', `"${first.body.etag}"`)
        .send({ status: 'closed', note: 'gone fishing' })
        .expect(200);
      expect(modified.body.etag).not.toBe(first.body.etag);
      const refreshed = await http
        .put(path(aor))
        .set('If-Match', `"${modified.body.etag}"`)
        .send({ expires: 120 })
        .expect(200);
      expect(refreshed.body.expires).toBe(120);
      const state = await http.get(path(aor)).expect(200);
      expect(state.body.publications).toHaveLength(1);
      expect(JSON.stringify(state.body)).toContain('gone fishing');

      // The replaced tags no longer match.
      const stale = await http.put(path(aor)).set('If-Match', `"${first.body.etag}"`).send({ status: 'open' });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({ statusCode: 412, error: 'Precondition Failed', field: 'If-Match' });
      await http.put(path(aor)).set('If-Match', '"no-such-tag"').send({ status: 'open' }).expect(412);
    });

    it.each([
      [{ status: 'away' }, 'status'],
      [{ note: 'x' }, 'status'],
      [{ status: 'open', note: 42 }, 'note'],
      [{ status: 'open', expires: -5 }, 'expires'],
      [{ status: 'open', expires: 3.5 }, 'expires'],
      [{ status: 'open', expires: 1 }, 'expires'],
    ])('PUT %j is 400 naming %s', async (body, field) => {
      const res = await http.put(path(uniqueAor('bad'))).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
      expect(res.body.message).toContain(field);
    });

    it('names the minimum expires, the AoR and the content type', async () => {
      const short = await http
        .put(path(uniqueAor('short')))
        .send({ status: 'open', expires: 1 })
        .expect(400);
      expect(short.body.message).toMatch(/^expires is too short: at least \d+ seconds$/);
      const aor = await http.put('/api/presentities/not%20an%20aor/presence').send({ status: 'open' }).expect(400);
      expect(aor.body.field).toBe('aor');
      const plain = await http
        .put(path(uniqueAor('t')))
        .set('Content-Type', 'text/plain')
        .send('open')
        .expect(415);
      expect(plain.body.field).toBe('Content-Type');
      const broken = await http
        .put(path(uniqueAor('t')))
        .set('Content-Type', 'application/json')
        .send('{oops');
      expect(broken.status).toBe(400);
      expect(broken.body.statusCode).toBe(400);
    });

    it('DELETE with If-Match removes one publication, without removes all, then 404', async () => {
      const aor = uniqueAor('carol');
      const a = await http.put(path(aor)).send({ status: 'open' }).expect(200);
      await http.put(path(aor)).send({ status: 'closed' }).expect(200);
      await http.delete(path(aor)).set('If-Match', `"${a.body.etag}"`).expect(204);
      expect((await http.get(path(aor))).body.publications).toHaveLength(1);
      await http.delete(path(aor)).expect(204);
      expect((await http.get(path(aor))).body.publications).toHaveLength(0);
      const none = await http.delete(path(aor)).expect(404);
      expect(none.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });

    it('GET /api/subscriptions lists watchers with filters; bad kind is 400', async () => {
      const aor = uniqueAor('dave');
      const c = await openWs();
      await c.ask({ type: 'subscribe', id: 'd1', aor, user: 'erin' });
      const list = await http.get('/api/subscriptions').query({ presentity: aor, event: 'presence' }).expect(200);
      expect(list.body.total).toBe(1);
      const [item] = list.body.items;
      expect(item).toMatchObject({ kind: 'ws', presentity: aor, event: 'presence', watcher: 'erin', status: 'active' });
      expect(typeof item.id).toBe('string');
      expect(new Date(item.expiresAt).getTime()).toBeGreaterThan(Date.now());
      expect(item.expires).toBeGreaterThan(3600);
      const ws = await http.get('/api/subscriptions').query({ kind: 'ws' }).expect(200);
      expect(ws.body.items.some((s: Msg) => s.presentity === aor)).toBe(true);
      const sip = await http.get('/api/subscriptions').query({ kind: 'sip', presentity: aor }).expect(200);
      expect(sip.body).toEqual({ items: [], total: 0, page: 1, limit: 50 });
      const bad = await http.get('/api/subscriptions').query({ kind: 'fax' }).expect(400);
      expect(bad.body.field).toBe('kind');
    });

    it('serves the OpenAPI document with the presence routes', async () => {
      const res = await http.get('/docs-json').expect(200);
      expect(Object.keys(res.body.paths)).toEqual(
        expect.arrayContaining(['/api/presentities/{aor}/{event}', '/api/subscriptions']),
      );
    });
  });

  describe('WebSocket /ws', () => {
    it('subscribe gets the state at once; a REST PUT reaches the subscriber within a second', async () => {
      const aor = uniqueAor('frank');
      const c = await openWs();
      const first = await c.ask({ type: 'subscribe', id: '1', aor });
      expect(first).toMatchObject({ type: 'state', id: '1', aor, event: 'presence' });
      expect(basic(first)).toContain('closed');
      const since = c.received.length;
      const t0 = Date.now();
      await http.put(path(aor)).send({ status: 'open', note: 'via REST' }).expect(200);
      const pushed = await c.next(isState('1', 'via REST'), 1000, since);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(basic(pushed)).toContain('open');
    });

    it('a WS publish reaches another WS subscriber; later publishes modify the same publication', async () => {
      const aor = uniqueAor('gina');
      const watcher = await openWs();
      const publisher = await openWs();
      await watcher.ask({ type: 'subscribe', id: 'w', aor });
      const since = watcher.received.length;
      const published = await publisher.ask({ type: 'publish', id: 'p1', aor, status: 'open', note: 'from ws' });
      expect(published).toEqual({ type: 'published', id: 'p1', etag: expect.any(String), expires: expect.any(Number) });
      await watcher.next(isState('w', 'from ws'), 1000, since);
      const again = await publisher.ask({ type: 'publish', id: 'p2', aor, status: 'closed', note: 'later' });
      expect(again.type).toBe('published');
      await watcher.next(isState('w', 'later'), 1000, since);
      const state = await http.get(path(aor)).expect(200);
      expect(state.body.publications).toHaveLength(1);
      expect(state.body.publications[0].etag).toBe(again.etag);
    });

    it('unsubscribe gets terminated; unknown ids get an error', async () => {
      const c = await openWs();
      await c.ask({ type: 'subscribe', id: 'u', aor: uniqueAor('hal') });
      await expect(c.ask({ type: 'unsubscribe', id: 'u' })).resolves.toEqual({
        type: 'terminated',
        id: 'u',
        reason: 'unsubscribed',
      });
      const err = await c.ask({ type: 'unsubscribe', id: 'u' });
      expect(err).toMatchObject({ type: 'error', id: 'u' });
    });

    it('bad input gets an error naming the fault and the socket stays usable', async () => {
      const c = await openWs();
      const since = c.received.length;
      c.ws.send('this is not json');
      const notJson = await c.next((m) => m.type === 'error', 1000, since);
      expect(notJson.message).toMatch(/not valid JSON/);
      expect(await c.ask({ type: 'frobnicate', id: 'x' })).toMatchObject({ type: 'error', id: 'x', field: 'type' });
      const badStatus = await c.ask({ type: 'publish', id: 'y', aor: uniqueAor('ivy'), status: 'busy' });
      expect(badStatus).toMatchObject({ type: 'error', id: 'y', field: 'status' });
      expect(badStatus.message).toMatch(/status/);
      const badEvent = await c.ask({ type: 'subscribe', id: 'z', aor: uniqueAor('ivy'), event: 'weather' });
      expect(badEvent).toMatchObject({ type: 'error', id: 'z', field: 'event' });
      expect(await c.ask({ type: 'ping', id: 'ok' })).toEqual({ type: 'pong', id: 'ok' });
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      const state = await c.ask({ type: 'subscribe', id: 's', aor: uniqueAor('ivy') });
      expect(state.type).toBe('state');
    });

    it('closing the socket removes its subscriptions and its publications', async () => {
      const aor = uniqueAor('jack');
      const watched = uniqueAor('kim');
      const observer = await openWs();
      await observer.ask({ type: 'subscribe', id: 'o', aor });
      const c = await WsClient.open(app.httpPort);
      await c.ask({ type: 'subscribe', id: 'a', aor: watched });
      await c.ask({ type: 'subscribe', id: 'b', aor: watched });
      await c.ask({ type: 'publish', id: 'p', aor, status: 'open', note: 'temporary' });
      await observer.next(isState('o', 'temporary'));
      expect((await http.get('/api/subscriptions').query({ presentity: watched })).body.total).toBe(2);
      const since = observer.received.length;

      await c.close();
      await eventually(
        async () => (await http.get('/api/subscriptions').query({ presentity: watched })).body.total === 0,
      );
      await eventually(async () => (await http.get(path(aor))).body.publications.length === 0);
      const after = await observer.next((m) => m.type === 'state' && !basic(m).includes('temporary'), 1000, since);
      expect(basic(after)).toContain('closed');
    });

    it('leaves /sip to the SIP transport and refuses other paths', async () => {
      const sip = new WebSocket(`ws://127.0.0.1:${app.httpPort}/sip`, 'sip');
      await new Promise<void>((resolve, reject) => {
        sip.once('open', () => {
          resolve();
        });
        sip.once('error', reject);
      });
      expect(sip.protocol).toBe('sip');
      sip.close();
      const other = new WebSocket(`ws://127.0.0.1:${app.httpPort}/nowhere`);
      const outcome = await new Promise<string>((resolve) => {
        other.once('open', () => {
          resolve('open');
        });
        other.once('unexpected-response', (_req, res) => {
          resolve(String(res.statusCode));
        });
        other.once('error', () => {
          resolve('error');
        });
      });
      other.terminate();
      expect(outcome).not.toBe('open');
    });
  });
});
