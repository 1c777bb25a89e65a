/**
 * REST `/api/presentities/{aor}/{event}` and the browser WebSocket for an event package other than
 * `presence`: test packages registered into the running app (test/utils/note-package.ts publishes text
 * notes with a JSON form; test/utils/versioned-package.ts takes no publications). Every kind of watcher —
 * WebSocket and SIP — hears a REST publication; unknown events are 404, publishing to a read-only one 405.
 */
import type { RunningApp } from '../../src/app.factory';
import { EventPackageRegistry } from '../../src/pa/core/event-package.registry';
import { api } from '../utils/e2e-helpers';
import { notePackage } from '../utils/note-package';
import { nextNotify, openClient, portsOf, uniqueAor } from '../utils/presence-e2e';
import type { SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { versionedPackage } from '../utils/versioned-package';
import { WsClient, type Msg } from '../utils/ws-test-client';

describe.each(databaseKinds())('REST and WebSocket for any event package on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  const sockets: WsClient[] = [];
  const sipClients: SipTestClient[] = [];
  const path = (aor: string, event: string): string => `/api/presentities/${encodeURIComponent(aor)}/${event}`;
  const http = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    api(app.httpPort, method, url, body, headers);
  const openWs = async (): Promise<WsClient> => {
    const c = await WsClient.open(app.httpPort);
    sockets.push(c);
    return c;
  };
  const isState = (id: string, pred: (m: Msg) => boolean) => (m: Msg) => m.type === 'state' && m.id === id && pred(m);
  const notes = (m: Msg): string[] => (m.state as { notes: { text: string }[] }).notes.map((n) => n.text);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
    const packages = app.app.get(EventPackageRegistry);
    packages.add(notePackage());
    packages.add(versionedPackage());
  });

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((c) => c.close()));
    for (const c of sipClients.splice(0)) await c.close();
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('PUT JSON and documents, GET JSON and the document, DELETE; WS and SIP watchers hear each change', async () => {
    const aor = uniqueAor('note');
    const ws = await openWs();
    const first = await ws.ask({ type: 'subscribe', id: 'w', aor, event: 'note' });
    expect(first).toEqual({ type: 'state', id: 'w', aor, event: 'note', state: { notes: [] } });
    const sip = await openClient(portsOf(app), 'udp');
    sipClients.push(sip);
    const { response, dialog } = await sip.subscribe({ uri: aor, event: 'note', expires: 300 });
    expect(response.status).toBe(200);
    expect((await nextNotify(sip, dialog.callId)).body).toBe('');

    const put = await http('PUT', path(aor, 'note'), { text: 'in the lab', expires: 120 });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ expires: 120 });
    const etag = put.json.etag as string;
    await ws.next(isState('w', (m) => notes(m).includes('in the lab')));
    const notify = await nextNotify(sip, dialog.callId);
    expect(notify.header('content-type')).toBe('text/plain');
    expect(notify.body).toBe('in the lab');

    const json = await http('GET', path(aor, 'note'));
    expect(json.status).toBe(200);
    expect(json.json).toEqual({ notes: [{ text: 'in the lab', etag }] });
    const doc = await http('GET', path(aor, 'note'), undefined, { accept: 'text/plain' });
    expect(doc.contentType).toMatch(/^text\/plain/);
    expect(doc.text).toBe('in the lab');

    // A raw document modifies the publication If-Match names; JSON without fields refreshes it.
    const modified = await http('PUT', `${path(aor, 'note')}?expires=300`, 'back at two', {
      'content-type': 'text/plain',
      'if-match': `"${etag}"`,
    });
    expect(modified.status).toBe(200);
    await ws.next(isState('w', (m) => notes(m).includes('back at two')));
    const refreshed = await http(
      'PUT',
      path(aor, 'note'),
      { expires: 600 },
      { 'if-match': `"${String(modified.json.etag)}"` },
    );
    expect(refreshed.json).toMatchObject({ expires: 600 });
    expect((await http('GET', path(aor, 'presence'))).json).toMatchObject({ basic: 'closed', publications: [] });

    expect((await http('DELETE', path(aor, 'note'))).status).toBe(204);
    await ws.next(isState('w', (m) => notes(m).length === 0));
    expect((await http('DELETE', path(aor, 'note'))).status).toBe(404);
  });

  it('publishes from the WebSocket with event, in the package JSON form', async () => {
    const aor = uniqueAor('wsnote');
    const watcher = await openWs();
    const publisher = await openWs();
    await watcher.ask({ type: 'subscribe', id: 1, aor, event: 'note' });
    const published = await publisher.ask({ type: 'publish', id: 'p', aor, event: 'note', text: 'from a browser' });
    expect(published).toMatchObject({ type: 'published', id: 'p', expires: 600 });
    const state = await watcher.next(
      (m) => m.type === 'state' && m.id === 1 && JSON.stringify(m.state).includes('browser'),
    );
    expect(state).toMatchObject({ aor, event: 'note' });
    const rest = await http('GET', path(aor, 'note'));
    expect(rest.json).toEqual({ notes: [{ text: 'from a browser', etag: published.etag }] });
    const bad = await publisher.ask({ type: 'publish', id: 'b', aor, event: 'note', note: 'x' });
    expect(bad).toMatchObject({ type: 'error', id: 'b', field: 'note' });
  });

  it('answers an unknown event with 404 naming event, and publishing to a read-only package with 405', async () => {
    const aor = uniqueAor('ro');
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await http(method, path(aor, 'weather'), method === 'PUT' ? { text: 'x' } : undefined);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ statusCode: 404, error: 'Not Found', field: 'event' });
      expect(res.json.message).toContain('known: note, presence, presence.winfo, reg, ua-profile, versioned');
    }
    for (const method of ['PUT', 'DELETE']) {
      const res = await http(method, path(aor, 'versioned'), method === 'PUT' ? { text: 'x' } : undefined);
      expect(res.status).toBe(405);
      expect(res.json).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', field: 'event' });
    }
    const get = await http('GET', path(aor, 'versioned'), undefined, { accept: 'text/plain' });
    expect(get.status).toBe(200);
    expect(get.text).toBe('v0 all full:');

    const ws = await openWs();
    expect(await ws.ask({ type: 'publish', id: 'x', aor, event: 'versioned', text: 'x' })).toMatchObject({
      type: 'error',
      field: 'event',
      message: expect.stringContaining('takes no publications'),
    });
    expect(await ws.ask({ type: 'subscribe', id: 'y', aor, event: 'weather' })).toMatchObject({
      type: 'error',
      field: 'event',
    });
    expect(await ws.ask({ type: 'subscribe', id: 'v', aor, event: 'versioned' })).toEqual({
      type: 'state',
      id: 'v',
      aor,
      event: 'versioned',
      state: {},
    });
  });
});
