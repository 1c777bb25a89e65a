import { notePackage } from '../../../test/utils/note-package';
import { createPresenceCore, FakeSocket, until, type PresenceCore } from '../../../test/utils/presence-core-harness';
import { versionedPackage } from '../../../test/utils/versioned-package';
import type { IncomingMessage } from 'node:http';
import type { AccessService } from '../../access/access.service';
import { setPrincipal, type Principal } from '../../access/principal';
import type { WatcherVerdict } from '../core/watcher-gate';
import { FakeClock } from '../../sip';
import { PresenceApiService } from './presence-api.service';
import { MAX_SUBSCRIPTIONS_PER_SOCKET, PresenceGateway } from './presence.gateway';

describe('PresenceGateway', () => {
  let core: PresenceCore;
  let api: PresenceApiService;
  let gateway: PresenceGateway;
  let decision: WatcherVerdict;
  let asked: { watcher: string; presentity: string; event: string }[];
  let retryAfter: number;
  const access = { identityLimit: () => retryAfter } as unknown as AccessService;

  beforeEach(() => {
    decision = 'active';
    asked = [];
    retryAfter = 0;
    core = createPresenceCore();
    core.gate.use({
      authorize: (watcher, presentity, event) => {
        asked.push({ watcher, presentity, event });
        return Promise.resolve(decision);
      },
      isPoliteBlocked: () => false,
    });
    api = new PresenceApiService(core.packages, core.notifier, core.store, core.publisher);
    gateway = new PresenceGateway(
      api,
      core.packages,
      core.notifier,
      core.registry,
      core.subscriptions,
      core.gate,
      core.clock,
      core.random,
      access,
    );
    gateway.onModuleInit();
  });

  afterEach(() => {
    gateway.onModuleDestroy();
  });

  function connect(principal?: Principal): FakeSocket {
    const socket = new FakeSocket();
    const req = {} as IncomingMessage;
    if (principal) setPrincipal(req, principal);
    gateway.handleConnection(socket.asWebSocket(), req);
    // What Nest's WsAdapter does on 'close'.
    socket.on('close', () => {
      gateway.handleDisconnect(socket.asWebSocket());
    });
    return socket;
  }

  async function reply(socket: FakeSocket, message: unknown, predicate: (m: Record<string, unknown>) => boolean) {
    const from = socket.sent.length;
    socket.receive(message);
    await until(() => socket.sent.slice(from).some(predicate), `reply to ${JSON.stringify(message)}`);
    return socket.sent.slice(from).find(predicate)!;
  }

  const withId = (id: unknown) => (m: Record<string, unknown>) => m.id === id;

  it('answers subscribe with the current state at once and registers a ws watcher', async () => {
    const s = connect();
    const state = await reply(s, { type: 'subscribe', id: '1', aor: 'alice@Example.com' }, withId('1'));
    expect(state).toMatchObject({ type: 'state', id: '1', aor: 'sip:alice@example.com', event: 'presence' });
    expect(JSON.stringify(state.state)).toContain('closed');
    const [sub] = core.registry.list({ kind: 'ws' });
    expect(sub).toMatchObject({ presentity: 'sip:alice@example.com', event: 'presence', status: 'active' });
    expect(sub.watcher).toMatch(/^ws:/);
    expect(sub.expiresAt - Date.now()).toBeGreaterThan(9 * 365 * 24 * 3600 * 1000);
  });

  it('uses the user the client names as watcher', async () => {
    const s = connect();
    await reply(s, { type: 'subscribe', id: 'a', aor: 'sip:alice@example.com', user: 'bob' }, withId('a'));
    expect(core.registry.list()[0].watcher).toBe('bob');
  });

  describe('with an API key', () => {
    const alice: Principal = { keyId: 'k1', role: 'user', aor: 'sip:alice@example.com' };
    const admin: Principal = { keyId: 'k0', role: 'admin' };

    it('lets a user key publish its own presence only', async () => {
      const s = connect(alice);
      const own = await reply(s, { type: 'publish', id: 1, aor: 'alice@example.com', status: 'open' }, withId(1));
      expect(own.type).toBe('published');
      const other = await reply(s, { type: 'publish', id: 2, aor: 'sip:bob@example.com', status: 'open' }, withId(2));
      expect(other).toMatchObject({ type: 'error', field: 'aor' });
      expect(other.message).toContain('may publish only its own presence, not sip:bob@example.com');
      expect(core.store.find('sip:bob@example.com', 'presence')).toHaveLength(0);
    });

    it('lets an admin key publish for any AoR', async () => {
      const s = connect(admin);
      const r = await reply(s, { type: 'publish', id: 1, aor: 'sip:bob@example.com', status: 'open' }, withId(1));
      expect(r.type).toBe('published');
    });

    it("subscribes as the key's AoR and asks the watcher policy", async () => {
      const s = connect(alice);
      await reply(s, { type: 'subscribe', id: 's', aor: 'sip:bob@example.com' }, withId('s'));
      expect(core.registry.list()[0].watcher).toBe('sip:alice@example.com');
      expect(asked).toEqual([
        { watcher: 'sip:alice@example.com', presentity: 'sip:bob@example.com', event: 'presence' },
      ]);
      const claimed = await reply(
        s,
        { type: 'subscribe', id: 't', aor: 'sip:bob@example.com', user: 'carol' },
        withId('t'),
      );
      expect(claimed).toMatchObject({ type: 'error', field: 'user' });
    });

    it('refuses what the watcher policy rejects and holds what it leaves pending', async () => {
      const s = connect(alice);
      decision = 'rejected';
      const refused = await reply(s, { type: 'subscribe', id: 1, aor: 'sip:bob@example.com' }, withId(1));
      expect(refused).toMatchObject({ type: 'error', field: 'aor' });
      expect(core.registry.list()).toHaveLength(0);
      decision = 'pending';
      const pending = await reply(s, { type: 'subscribe', id: 2, aor: 'sip:bob@example.com' }, withId(2));
      expect(pending).toEqual({ type: 'pending', id: 2, aor: 'sip:bob@example.com', event: 'presence' });
      expect(core.registry.list()[0].status).toBe('pending');
      expect(s.sent.some((m) => m.type === 'state')).toBe(false);
    });

    it("answers messages over the key's rate with an error", async () => {
      const s = connect(alice);
      retryAfter = 3;
      const r = await reply(s, { type: 'ping', id: 'p' }, withId('p'));
      expect(r).toMatchObject({ type: 'error' });
      expect(r.message).toContain('retry after 3 s');
    });
  });

  it('pushes state changes from any publisher and delivers a WS publish to another socket', async () => {
    const watcher = connect();
    const publisher = connect();
    await reply(watcher, { type: 'subscribe', id: 7, aor: 'sip:bob@example.com' }, withId(7));
    const published = await reply(
      publisher,
      { type: 'publish', id: 'p1', aor: 'sip:bob@example.com', status: 'open', note: 'at desk' },
      withId('p1'),
    );
    expect(published).toMatchObject({ type: 'published', id: 'p1', expires: 3600 });
    expect(typeof published.etag).toBe('string');
    await until(() => watcher.sent.some((m) => m.type === 'state' && JSON.stringify(m.state).includes('at desk')));
    const pub = core.store.find('sip:bob@example.com', 'presence')[0];
    expect(pub.source).toMatch(/^ws:/);
    expect(pub.body).toContain('<basic>open</basic>');
  });

  it('modifies its own publication on later publishes (one publication per socket and AoR)', async () => {
    const s = connect();
    const first = await reply(s, { type: 'publish', id: 1, aor: 'sip:bob@example.com', status: 'open' }, withId(1));
    const second = await reply(
      s,
      { type: 'publish', id: 2, aor: 'sip:bob@example.com', status: 'closed', expires: 120 },
      withId(2),
    );
    expect(second).toMatchObject({ type: 'published', expires: 120 });
    expect(second.etag).not.toBe(first.etag);
    const pubs = core.store.find('sip:bob@example.com', 'presence');
    expect(pubs).toHaveLength(1);
    expect(pubs[0].body).toContain('closed');
    // Refresh without status keeps the document.
    const third = await reply(s, { type: 'publish', id: 3, aor: 'sip:bob@example.com' }, withId(3));
    expect(third.type).toBe('published');
    expect(core.store.find('sip:bob@example.com', 'presence')[0].body).toContain('closed');
    // expires 0 removes it.
    const removed = await reply(s, { type: 'publish', id: 4, aor: 'sip:bob@example.com', expires: 0 }, withId(4));
    expect(removed).toMatchObject({ type: 'published', expires: 0 });
    expect(core.store.find('sip:bob@example.com', 'presence')).toHaveLength(0);
  });

  it('starts a new publication when its own was removed elsewhere', async () => {
    const s = connect();
    const first = await reply(s, { type: 'publish', id: 1, aor: 'sip:bob@example.com', status: 'open' }, withId(1));
    await api.remove('sip:bob@example.com', 'presence', first.etag as string, 'rest');
    const again = await reply(s, { type: 'publish', id: 2, aor: 'sip:bob@example.com', status: 'open' }, withId(2));
    expect(again.type).toBe('published');
    expect(core.store.find('sip:bob@example.com', 'presence')).toHaveLength(1);
  });

  it('ends a subscription on unsubscribe with terminated, and refuses unknown ids', async () => {
    const s = connect();
    await reply(s, { type: 'subscribe', id: 's', aor: 'sip:alice@example.com' }, withId('s'));
    const done = await reply(s, { type: 'unsubscribe', id: 's' }, withId('s'));
    expect(done).toEqual({ type: 'terminated', id: 's', reason: 'unsubscribed' });
    expect(core.registry.size).toBe(0);
    const err = await reply(s, { type: 'unsubscribe', id: 's' }, withId('s'));
    expect(err).toMatchObject({ type: 'error', id: 's', field: 'id' });
  });

  it('holds many subscriptions on one socket and refuses a reused id', async () => {
    const s = connect();
    await reply(s, { type: 'subscribe', id: 'a', aor: 'sip:a@example.com' }, withId('a'));
    await reply(s, { type: 'subscribe', id: 'b', aor: 'sip:b@example.com' }, withId('b'));
    const dup = await reply(s, { type: 'subscribe', id: 'a', aor: 'sip:c@example.com' }, withId('a'));
    expect(dup).toMatchObject({ type: 'error', field: 'id' });
    expect(core.registry.list({ kind: 'ws' })).toHaveLength(2);
  });

  it(`refuses a subscription beyond ${MAX_SUBSCRIPTIONS_PER_SOCKET} on one socket until one ends`, async () => {
    const s = connect();
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_SOCKET; i++) {
      await reply(s, { type: 'subscribe', id: i, aor: `sip:u${i}@example.com` }, withId(i));
    }
    const refused = await reply(s, { type: 'subscribe', id: 'more', aor: 'sip:x@example.com' }, withId('more'));
    expect(refused).toMatchObject({ type: 'error', message: expect.stringMatching(/most allowed/) });
    await reply(s, { type: 'unsubscribe', id: 0 }, withId(0));
    const again = await reply(s, { type: 'subscribe', id: 'more', aor: 'sip:x@example.com' }, withId('more'));
    expect(again).toMatchObject({ type: 'state' });
    expect(core.registry.list({ kind: 'ws' })).toHaveLength(MAX_SUBSCRIPTIONS_PER_SOCKET);
  });

  it.each([
    ['not JSON', '{nope', undefined, /not valid JSON/],
    ['an array', '[1,2]', undefined, /JSON object/],
    ['no id', { type: 'ping' }, undefined, /^id must/],
    ['unknown type', { type: 'dance', id: 'x' }, 'x', /^type must be one of/],
    ['bad aor', { type: 'subscribe', id: 'x', aor: 'not an aor' }, 'x', /^aor must be a SIP AoR/],
    ['missing aor', { type: 'subscribe', id: 'x' }, 'x', /^aor is required/],
    ['a NUL in aor', { type: 'subscribe', id: 'x', aor: 'sip:a\u0000b@c.d' }, 'x', /^aor must not contain control/],
    ['a newline in aor', { type: 'publish', id: 'x', aor: 'sip:ab@c.d\n', status: 'open' }, 'x', /^aor must not/],
    ['an array aor', { type: 'subscribe', id: 'x', aor: ['sip:a@b.c'] }, 'x', /^aor must be one string/],
    ['an array event', { type: 'subscribe', id: 'x', aor: 'sip:a@b.c', event: ['presence'] }, 'x', /^event must be/],
    ['a control char in user', { type: 'subscribe', id: 'x', aor: 'sip:a@b.c', user: 'a\u0007' }, 'x', /^user must/],
    ['unknown event', { type: 'subscribe', id: 'x', aor: 'sip:a@b.c', event: 'weather' }, 'x', /^event "weather"/],
    ['bad status', { type: 'publish', id: 'x', aor: 'sip:a@b.c', status: 'away' }, 'x', /^status must be/],
    ['no status', { type: 'publish', id: 'x', aor: 'sip:a@b.c' }, 'x', /^status is required/],
    ['bad note', { type: 'publish', id: 'x', aor: 'sip:a@b.c', status: 'open', note: 5 }, 'x', /^note must be/],
    ['bad expires', { type: 'publish', id: 'x', aor: 'sip:a@b.c', status: 'open', expires: -1 }, 'x', /^expires/],
    ['short expires', { type: 'publish', id: 'x', aor: 'sip:a@b.c', status: 'open', expires: 5 }, 'x', /at least 60/],
    ['unknown field', { type: 'publish', id: 'x', aor: 'sip:a@b.c', status: 'open', staus: 1 }, 'x', /^staus is not/],
  ])('answers %s with an error and keeps the socket usable', async (_what, message, id, pattern) => {
    const s = connect();
    const from = s.sent.length;
    s.receive(message);
    await until(() => s.sent.length > from, 'error');
    const err = s.sent[from];
    expect(err.type).toBe('error');
    expect(err.id).toBe(id);
    expect(err.message).toMatch(pattern);
    expect(s.readyState).toBe(1);
    await expect(reply(s, { type: 'ping', id: 'after' }, withId('after'))).resolves.toEqual({
      type: 'pong',
      id: 'after',
    });
  });

  it('answers a binary frame with an error', async () => {
    const s = connect();
    s.emit('message', Buffer.from('{}'), true);
    await until(() => s.sent.length > 0);
    expect(s.sent[0]).toMatchObject({ type: 'error', message: expect.stringMatching(/text frames/) });
  });

  it('drops its subscriptions and removes its publications when the socket closes', async () => {
    const s = connect();
    const other = connect();
    await reply(other, { type: 'subscribe', id: 'w', aor: 'sip:bob@example.com' }, withId('w'));
    await reply(s, { type: 'subscribe', id: 'a', aor: 'sip:alice@example.com' }, withId('a'));
    await reply(s, { type: 'publish', id: 'p', aor: 'sip:bob@example.com', status: 'open' }, withId('p'));
    expect(core.registry.size).toBe(2);
    const seen = other.sent.length;
    s.close();
    await until(() => core.store.find('sip:bob@example.com', 'presence').length === 0, 'publication removed');
    expect(core.registry.list().map((x) => x.watcher)).toEqual([expect.stringMatching(/^ws:/)]);
    expect(core.registry.list()[0].presentity).toBe('sip:bob@example.com');
    expect(core.committed.size).toBe(0);
    // The remaining watcher hears that bob is closed again.
    await until(() =>
      other.sent.slice(seen).some((m) => m.type === 'state' && JSON.stringify(m.state).includes('closed')),
    );
    expect(gateway.size).toBe(1);
  });

  describe('with other event packages registered', () => {
    beforeEach(() => {
      core.packages.add(notePackage());
      core.packages.add(versionedPackage());
    });

    it("subscribes to and publishes any package's state in its JSON form", async () => {
      const watcher = connect();
      const publisher = connect();
      const first = await reply(
        watcher,
        { type: 'subscribe', id: 'n', aor: 'sip:dan@example.com', event: 'note' },
        withId('n'),
      );
      expect(first).toEqual({
        type: 'state',
        id: 'n',
        aor: 'sip:dan@example.com',
        event: 'note',
        state: { notes: [] },
      });
      const published = await reply(
        publisher,
        { type: 'publish', id: 'p', aor: 'sip:dan@example.com', event: 'note', text: 'in the lab' },
        withId('p'),
      );
      expect(published).toMatchObject({ type: 'published', expires: 600 });
      await until(() => watcher.sent.some((m) => m.type === 'state' && JSON.stringify(m.state).includes('in the lab')));
      expect(core.store.find('sip:dan@example.com', 'note')[0]).toMatchObject({
        body: 'in the lab',
        contentType: 'text/plain',
      });
      // The presence state of the same AoR is untouched.
      expect(core.store.find('sip:dan@example.com', 'presence')).toHaveLength(0);
      const removed = await reply(
        publisher,
        { type: 'publish', id: 'q', aor: 'sip:dan@example.com', event: 'note', expires: 0 },
        withId('q'),
      );
      expect(removed).toMatchObject({ type: 'published', expires: 0 });
      await until(() => watcher.sent.filter((m) => m.type === 'state').length === 3, 'state after removal');
      expect(watcher.sent.at(-1)).toMatchObject({ state: { notes: [] } });
    });

    it.each([
      [{ event: 'note' }, 'text', /^text is required/],
      [{ event: 'note', text: 'x', status: 'open' }, 'status', /^status is not a field of publish/],
      [{ event: 'versioned', text: 'x' }, 'event', /takes no publications/],
      [
        { event: 'weather', text: 'x' },
        'event',
        /^event "weather" is not a package .*known: note, presence, versioned/,
      ],
    ])('answers publish %j with an error naming %s', async (fields, field, message) => {
      const s = connect();
      const err = await reply(s, { type: 'publish', id: 'e', aor: 'sip:dan@example.com', ...fields }, withId('e'));
      expect(err).toMatchObject({ type: 'error', id: 'e', field, message: expect.stringMatching(message) });
    });

    it('subscribes to a package without publications', async () => {
      const s = connect();
      const state = await reply(
        s,
        { type: 'subscribe', id: 'v', aor: 'sip:dan@example.com', event: 'versioned' },
        withId('v'),
      );
      expect(state).toEqual({ type: 'state', id: 'v', aor: 'sip:dan@example.com', event: 'versioned', state: {} });
    });
  });

  it('pings on the injected clock', () => {
    const clock = new FakeClock();
    const timed = new PresenceGateway(
      api,
      core.packages,
      core.notifier,
      core.registry,
      core.subscriptions,
      core.gate,
      clock,
      core.random,
      access,
    );
    timed.onModuleInit();
    const s = new FakeSocket();
    timed.handleConnection(s.asWebSocket());
    clock.advance(30_000);
    expect(s.pings).toBe(1);
    clock.advance(60_000);
    expect(s.terminated).toBe(true);
    timed.onModuleDestroy();
    expect(clock.pending).toBe(0);
  });

  it('pings every socket and terminates one that did not answer the previous ping', () => {
    const s = connect();
    gateway.sweep();
    expect(s.pings).toBe(1);
    s.emit('pong');
    gateway.sweep();
    expect(s.pings).toBe(2);
    expect(s.terminated).toBe(false);
    gateway.sweep();
    expect(s.terminated).toBe(true);
  });
});
