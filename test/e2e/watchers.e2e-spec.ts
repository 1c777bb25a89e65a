/**
 * Watcher authorization for presence (RFC 6665 pending/active, RFC 3856 §6.6.2, RFC 5025 §3.2.1) with
 * `watchers.defaultPolicy = pending`: a new watcher's SUBSCRIBE gets 202 and a NOTIFY pending without state;
 * the presentity lists it over REST and approves it (NOTIFY active with the state), denies it (NOTIFY
 * terminated;reason=rejected, and 403 to its next SUBSCRIBE) or polite-blocks it (NOTIFY active with a neutral
 * closed document, no notes). The same for a browser on /ws.
 */
import type { RunningApp } from '../../src/app.factory';
import { api } from '../utils/e2e-helpers';
import {
  basics,
  expectValidPidf,
  nextNotify,
  openClient,
  portsOf,
  startPresenceApp,
  subscriptionState,
  uniqueAor,
} from '../utils/presence-e2e';
import type { SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds } from '../utils/test-database';
import { WsClient } from '../utils/ws-test-client';

const watchersPath = (presentity: string, watcher?: string, action?: string): string =>
  `/api/watchers/${encodeURIComponent(presentity)}` +
  (watcher === undefined ? '' : `/${encodeURIComponent(watcher)}`) +
  (action === undefined ? '' : `/${action}`);

describe.each(databaseKinds())('watcher authorization (default policy pending) on %s', (kind) => {
  let app: RunningApp;
  let stop: () => Promise<void>;
  const clients: SipTestClient[] = [];

  beforeAll(async () => {
    ({ app, stop } = await startPresenceApp(kind, { WATCHERS_DEFAULT_POLICY: 'pending' }));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });

  afterAll(() => stop());

  async function client(): Promise<SipTestClient> {
    const c = await openClient(portsOf(app), 'udp');
    clients.push(c);
    return c;
  }

  async function publish(presentity: string, note: string): Promise<void> {
    const path = `/api/presentities/${encodeURIComponent(presentity)}/presence`;
    expect((await api(app.httpPort, 'PUT', path, { status: 'open', note })).status).toBe(200);
  }

  /** A watcher whose SUBSCRIBE was accepted pending, with its first NOTIFY. */
  async function pendingWatcher(presentity: string, watcher: string) {
    const c = await client();
    const { response, dialog } = await c.subscribe({ uri: presentity, event: 'presence', from: watcher, expires: 300 });
    expect(response.status).toBe(202);
    const first = await nextNotify(c, dialog.callId);
    expect(subscriptionState(first)).toMatchObject({ state: 'pending' });
    expect(first.body).toBe('');
    expect(first.header('content-type')).toBeUndefined();
    return { c, dialog };
  }

  it('pending → listed → approved: NOTIFY active with the state', async () => {
    const presentity = uniqueAor('alice');
    const watcher = uniqueAor('bob');
    await publish(presentity, 'at the desk');
    const { c, dialog } = await pendingWatcher(presentity, watcher);

    const pending = await api(app.httpPort, 'GET', `${watchersPath(presentity)}?policy=pending`);
    expect(pending.status).toBe(200);
    expect(pending.json.items).toEqual([
      { presentity, watcher, policy: 'pending', updatedAt: expect.any(String) as unknown },
    ]);
    const listed = await api(app.httpPort, 'GET', `/api/subscriptions?presentity=${encodeURIComponent(presentity)}`);
    expect((listed.json.items as { status: string }[])[0].status).toBe('pending');

    const approved = await api(app.httpPort, 'POST', watchersPath(presentity, watcher, 'approve'));
    expect(approved.status).toBe(200);
    expect(approved.json.policy).toBe('allow');
    const active = await nextNotify(c, dialog.callId);
    expect(subscriptionState(active).state).toBe('active');
    expect(active.body).toContain('at the desk');
    expectValidPidf(active.body);

    // From now on the watcher follows the presentity like any other.
    await publish(presentity, 'in a meeting');
    expect((await nextNotify(c, dialog.callId)).body).toContain('in a meeting');
    expect((await api(app.httpPort, 'GET', `${watchersPath(presentity)}?policy=pending`)).json.items).toEqual([]);
  });

  it('pending → denied: NOTIFY terminated;reason=rejected without state, and 403 to the next SUBSCRIBE', async () => {
    const presentity = uniqueAor('alice');
    const watcher = uniqueAor('mallory');
    await publish(presentity, 'secret whereabouts');
    const { c, dialog } = await pendingWatcher(presentity, watcher);

    expect((await api(app.httpPort, 'POST', watchersPath(presentity, watcher, 'deny'))).json.policy).toBe('deny');
    const last = await nextNotify(c, dialog.callId);
    expect(subscriptionState(last)).toMatchObject({ state: 'terminated', reason: 'rejected' });
    expect(last.body).toBe('');

    const again = await c.subscribe({ uri: presentity, event: 'presence', from: watcher, expires: 300 });
    expect(again.response.status).toBe(403);
  });

  it('polite-block: NOTIFY active with a neutral document (closed, no notes), also after a change', async () => {
    const presentity = uniqueAor('alice');
    const watcher = uniqueAor('eve');
    await publish(presentity, 'where I really am');
    const { c, dialog } = await pendingWatcher(presentity, watcher);

    const blocked = await api(app.httpPort, 'POST', watchersPath(presentity, watcher, 'deny'), { polite: true });
    expect(blocked.json.policy).toBe('polite-block');
    const neutral = await nextNotify(c, dialog.callId);
    expect(subscriptionState(neutral).state).toBe('active');
    expectValidPidf(neutral.body);
    expect(basics(neutral.body)).toEqual(['closed']);
    expect(neutral.body).not.toContain('note');
    expect(neutral.body).not.toContain('where I really am');

    // A polite-blocked watcher that subscribes anew is accepted as active and sees the same neutral state.
    const c2 = await client();
    const again = await c2.subscribe({ uri: presentity, event: 'presence', from: watcher, expires: 300 });
    expect(again.response.status).toBe(200);
    const first = await nextNotify(c2, again.dialog.callId);
    expect(basics(first.body)).toEqual(['closed']);
    expect(first.body).not.toContain('where I really am');

    // Lifting the block shows the real state.
    expect((await api(app.httpPort, 'PUT', watchersPath(presentity, watcher), { policy: 'allow' })).status).toBe(200);
    const real = await nextNotify(c, dialog.callId, 5000, (m) => m.body.includes('where I really am'));
    expect(basics(real.body)).toEqual(['open']);
  });

  it("a presentity's * rule decides watchers without their own rule; a user always watches itself", async () => {
    const presentity = uniqueAor('alice');
    expect((await api(app.httpPort, 'PUT', watchersPath(presentity, '*'), { policy: 'allow' })).status).toBe(200);
    const c = await client();
    const open = await c.subscribe({ uri: presentity, event: 'presence', from: uniqueAor('carol'), expires: 300 });
    expect(open.response.status).toBe(200);
    const self = await c.subscribe({ uri: presentity, event: 'presence', from: presentity, expires: 300 });
    expect(self.response.status).toBe(200);
    expect(subscriptionState(await nextNotify(c, self.dialog.callId)).state).toBe('active');
  });

  it('REST names the bad field', async () => {
    const presentity = uniqueAor('alice');
    const bad = await api(app.httpPort, 'PUT', watchersPath(presentity, uniqueAor('bob')), { policy: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('policy must be one of allow, deny, polite-block, pending');
    const self = await api(app.httpPort, 'PUT', watchersPath(presentity, presentity), { policy: 'deny' });
    expect(self.status).toBe(400);
    const none = await api(app.httpPort, 'DELETE', watchersPath(presentity, uniqueAor('nobody')));
    expect(none.status).toBe(404);
    const notAor = await api(app.httpPort, 'GET', watchersPath('not an aor'));
    expect(notAor.status).toBe(400);
  });

  it('presence.winfo (RFC 3857): the presentity sees a watcher pending, then active once approved; others may not', async () => {
    const presentity = uniqueAor('alice');
    const owner = await client();
    const winfo = await owner.subscribe({
      uri: presentity,
      event: 'presence.winfo',
      from: presentity,
      accept: 'application/watcherinfo+xml',
      expires: 300,
    });
    expect(winfo.response.status).toBe(200);
    const empty = await nextNotify(owner, winfo.dialog.callId);
    expect(empty.header('content-type')).toBe('application/watcherinfo+xml');
    expect(empty.body).toContain(`<watcher-list resource="${presentity}" package="presence"></watcher-list>`);

    const watcher = uniqueAor('bob');
    await pendingWatcher(presentity, watcher);
    // The watcher is recorded as waiting a moment before its subscription exists: wait for the pending one.
    const pendingLine = new RegExp(`status="pending" event="subscribe"[^>]*>${watcher}</watcher>`);
    const listed = await nextNotify(owner, winfo.dialog.callId, 5000, (m) => pendingLine.test(m.body));
    expect(listed.body).toMatch(/version="[1-9]\d*"/);

    await api(app.httpPort, 'POST', watchersPath(presentity, watcher, 'approve'));
    const approved = await nextNotify(owner, winfo.dialog.callId, 5000, (m) => m.body.includes('status="active"'));
    expect(approved.body).toMatch(new RegExp(`status="active" event="approved"[^>]*>${watcher}</watcher>`));

    const rest = await api(app.httpPort, 'GET', `/api/presentities/${encodeURIComponent(presentity)}/presence.winfo`);
    expect(rest.json.watchers).toEqual([
      expect.objectContaining({ uri: watcher, status: 'active', event: 'approved' }),
    ]);

    const stranger = await client();
    const refused = await stranger.subscribe({ uri: presentity, event: 'presence.winfo', from: watcher, expires: 300 });
    expect(refused.response.status).toBe(403);
  });

  it('a browser on /ws: pending, then state once approved; rejected when denied', async () => {
    const presentity = uniqueAor('alice');
    await publish(presentity, 'browser view');
    const ws = await WsClient.open(app.httpPort);
    try {
      const watcher = uniqueAor('browser');
      const first = await ws.ask({ type: 'subscribe', id: 's1', aor: presentity, user: watcher });
      expect(first).toEqual({ type: 'pending', id: 's1', aor: presentity, event: 'presence' });
      const since = ws.received.length;
      await api(app.httpPort, 'POST', watchersPath(presentity, watcher, 'approve'));
      const state = await ws.next((m) => m.type === 'state' && m.id === 's1', 5000, since);
      expect(JSON.stringify(state)).toContain('browser view');

      const other = uniqueAor('browser2');
      await ws.ask({ type: 'subscribe', id: 's2', aor: presentity, user: other });
      const before = ws.received.length;
      await api(app.httpPort, 'POST', watchersPath(presentity, other, 'deny'));
      expect(await ws.next((m) => m.id === 's2', 5000, before)).toEqual({
        type: 'terminated',
        id: 's2',
        reason: 'rejected',
      });
      const refused = await ws.ask({ type: 'subscribe', id: 's3', aor: presentity, user: other });
      expect(refused).toMatchObject({ type: 'error', id: 's3', field: 'aor' });
    } finally {
      await ws.close();
    }
  });
});

describe.each(databaseKinds())('watcher authorization across a restart on %s', (kind) => {
  it('a pending watcher and its rule are kept; approving after the restart sends NOTIFY active', async () => {
    const db = await createTestDatabase(kind);
    const env = { WATCHERS_DEFAULT_POLICY: 'pending' };
    let app = await startTestApp(db, env);
    const presentity = uniqueAor('alice');
    const watcher = uniqueAor('bob');
    const c = await openClient(portsOf(app), 'udp');
    try {
      const { response, dialog } = await c.subscribe({
        uri: presentity,
        event: 'presence',
        from: watcher,
        expires: 300,
      });
      expect(response.status).toBe(202);
      expect(subscriptionState(await nextNotify(c, dialog.callId)).state).toBe('pending');
      await app.close();

      app = await startTestApp(db, env);
      const pending = await api(app.httpPort, 'GET', `${watchersPath(presentity)}?policy=pending`);
      expect((pending.json.items as { watcher: string }[]).map((r) => r.watcher)).toEqual([watcher]);
      const path = `/api/presentities/${encodeURIComponent(presentity)}/presence`;
      expect((await api(app.httpPort, 'PUT', path, { status: 'open', note: 'after restart' })).status).toBe(200);
      expect((await api(app.httpPort, 'POST', watchersPath(presentity, watcher, 'approve'))).status).toBe(200);
      const active = await nextNotify(c, dialog.callId, 5000, (m) => subscriptionState(m).state === 'active');
      expect(active.body).toContain('after restart');
    } finally {
      await c.close();
      await app.close();
      await db.drop();
    }
  });
});
