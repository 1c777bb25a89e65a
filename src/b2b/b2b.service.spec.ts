import { createPresenceCore, until, type PresenceCore } from '../../test/utils/presence-core-harness';
import type { AppConfig, B2bConfig } from '../config/app-config';
import { InternalSubscriptions } from '../pa/core/internal-subscriptions.service';
import type { Delivery, WsSubscription } from '../pa/core/subscription';
import { FakeClock, SequenceRandom } from '../sip';
import type { SipBridge } from '../sip-bridge/sip-bridge.service';
import type { B2bRemote, RemoteNotify, RemoteRecord, RemoteSubscribe } from './b2b-remote';
import { B2B_OWNER, B2bService, MAX_PASS_THROUGH_PACKAGES } from './b2b.service';

const B2B: B2bConfig = {
  presenceRoute: 'sip:proxy.remote.example:5070;lr',
  maxSubscribeDelay: 0,
  onErrorRetryTime: 7,
  waitForTermNotify: 3,
  resubscribeDelta: 5,
  minResubscribeTime: 2,
  defaultExpiration: 600,
  shareSubscriptions: true,
  watcherIdentity: '',
  presenceProxy: false,
};

const CAROL = 'sip:carol@remote.example';
const PIDF = (basic: string, entity = CAROL): string =>
  `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}"><tuple id="t"><status><basic>${basic}</basic></status></tuple></presence>`;

/** The outgoing client as B2B sees it: records what is asked, lets the test play the remote server. */
class FakeRemote implements B2bRemote {
  readonly records = new Map<string, RemoteRecord>();
  readonly subscribed: RemoteSubscribe[] = [];
  readonly unsubscribed: string[] = [];
  private notifyHandler?: (n: RemoteNotify) => void | Promise<void>;
  private statusListener?: (r: RemoteRecord) => void;

  subscribe(input: RemoteSubscribe): Promise<RemoteRecord> {
    this.subscribed.push(input);
    const rec: RemoteRecord = {
      key: input.key,
      uri: input.uri,
      from: input.from,
      event: input.event,
      state: 'active',
      expiresAt: 0,
      retryAt: 0,
      lastStatus: 200,
      lastReason: 'OK',
      updatedAt: 0,
    };
    this.records.set(input.key, rec);
    return Promise.resolve(rec);
  }

  unsubscribe(_owner: string, key: string): Promise<boolean> {
    this.unsubscribed.push(key);
    return Promise.resolve(this.records.delete(key));
  }

  get(_owner: string, key: string): RemoteRecord | undefined {
    return this.records.get(key);
  }

  list(): RemoteRecord[] {
    return [...this.records.values()];
  }

  onNotify(_owner: string, handler: (n: RemoteNotify) => void | Promise<void>): void {
    this.notifyHandler = handler;
  }

  onStatus(_owner: string, listener: (r: RemoteRecord) => void): void {
    this.statusListener = listener;
  }

  /** The remote server sends a NOTIFY in the subscription of `key`. */
  async notify(key: string, state: string, body = '', contentType?: string, reason?: string): Promise<void> {
    const record = this.records.get(key);
    if (!record || !this.notifyHandler) throw new Error(`no subscription ${key}`);
    const subscriptionState = { state, ...(reason !== undefined && { reason }) };
    await this.notifyHandler({ record, subscriptionState, contentType, body });
  }

  /** The client reports a change of state. */
  status(key: string, change: Partial<RemoteRecord>): void {
    const rec = { ...this.records.get(key)!, ...change };
    this.records.set(key, rec);
    this.statusListener?.(rec);
  }
}

interface Setup {
  core: PresenceCore;
  qsa: InternalSubscriptions;
  b2b: B2bService;
  remote: FakeRemote;
  clock: FakeClock;
  /** Deliveries to the `app` owner's internal watchers. */
  got: Delivery[];
}

/** Randomness whose fractions go round 0, 0.1, ..., 0.9 (the spread of initial SUBSCRIBEs). */
class SpreadRandom extends SequenceRandom {
  private i = 0;

  override hex(bytes: number): string {
    return Math.floor(((this.i++ % 10) / 10) * 0x1_0000_0000)
      .toString(16)
      .padStart(bytes * 2, '0');
  }
}

function setup(b2b: Partial<B2bConfig> = {}, remote = new FakeRemote(), core?: PresenceCore): Setup {
  const clock = new FakeClock();
  core ??= createPresenceCore({ clock, random: new SequenceRandom() });
  const config = {
    sip: { domains: ['here.example'], advertisedHost: '', host: '0.0.0.0' },
    pa: { acceptInternalSubscriptions: true, defaultExpires: 3600, minExpires: 60, maxExpires: 7200 },
    b2b: { ...B2B, ...b2b },
  } as unknown as AppConfig;
  const qsa = new InternalSubscriptions(
    core.subscriptions,
    core.registry,
    core.subRepo,
    core.notifier,
    core.packages,
    config,
    core.clock,
    core.random,
  );
  const service = new B2bService(
    core.registry,
    core.subscriptions,
    qsa,
    core.publisher,
    core.store,
    core.packages,
    { serveOtherDomains: () => undefined } as unknown as SipBridge,
    remote,
    config,
    clock,
    new SpreadRandom('b'),
  );
  const got: Delivery[] = [];
  qsa.onDelivery('app', (d) => got.push(d));
  service.onModuleInit();
  return { core, qsa, b2b: service, remote, clock, got };
}

const watch = (s: Setup, watcher: string, event = 'presence', presentity = CAROL) =>
  s.qsa.subscribe({ owner: 'app', presentity, event, watcher });

function wsWatcher(presentity: string, id: string): WsSubscription {
  return {
    kind: 'ws',
    id,
    presentity,
    event: 'presence',
    watcher: `ws:${id}`,
    accept: [],
    status: 'active',
    expiresAt: Date.now() + 3_600_000,
    createdAt: Date.now(),
    client: id,
    clientId: '1',
  };
}

describe('B2bService', () => {
  it('serves a watcher of a remote presentity with a SUBSCRIBE via presenceRoute, and its NOTIFYs as state', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    await watch(s, 'sip:app@here.example');
    s.clock.advance(0);
    expect(s.remote.subscribed).toEqual([
      {
        owner: B2B_OWNER,
        key: expect.any(String) as string,
        uri: CAROL,
        from: 'sip:app@here.example',
        event: 'presence',
        expires: 600,
        route: 'sip:proxy.remote.example:5070;lr',
        options: { refreshBefore: 5, minRefreshInterval: 2, retryAfter: 7, waitForTermNotify: 3, resumeSpread: 0 },
      },
    ]);
    const key = s.remote.subscribed[0].key;
    await s.remote.notify(key, 'active', PIDF('open'), 'application/pidf+xml;charset=utf-8');
    await until(() => s.got.length === 2, 'the remote state');
    expect(s.got[1].body?.body).toContain('<basic>open</basic>');
    await s.remote.notify(key, 'active', PIDF('closed'), 'application/pidf+xml');
    await until(() => s.got.length === 3, 'the next remote state');
    expect(s.got[2].body?.body).toContain('<basic>closed</basic>');
    expect(s.core.store.find(CAROL, 'presence')).toHaveLength(1);
  });

  it('keeps the remote state at least as long as a refreshed remote subscription', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    await watch(s, 'sip:app@here.example');
    s.clock.advance(0);
    const key = s.remote.subscribed[0].key;
    await s.remote.notify(key, 'active', PIDF('open'), 'application/pidf+xml');
    const now = s.clock.now();
    // The NOTIFY said nothing of expiry: the 600 s asked for, and a minute more.
    expect(s.core.store.find(CAROL, 'presence')[0].expiresAt).toBe(now + 660_000);
    s.remote.status(key, { state: 'active', expiresAt: now + 3_000_000 });
    await until(() => s.core.store.find(CAROL, 'presence')[0].expiresAt === now + 3_060_000, 'the state kept longer');
    // A refresh that grants less than the state already lasts changes nothing.
    s.remote.status(key, { state: 'active', expiresAt: now + 1_000 });
    await s.clock.flush();
    expect(s.core.store.find(CAROL, 'presence')[0].expiresAt).toBe(now + 3_060_000);
  });

  it('answers a NOTIFY whose document the package refuses with the package status', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    await watch(s, 'sip:app@here.example');
    s.clock.advance(0);
    await expect(
      s.remote.notify(s.remote.subscribed[0].key, 'active', '<presence', 'application/pidf+xml'),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('leaves local presentities to the core', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    await watch(s, 'sip:app@here.example', 'presence', 'sip:alice@here.example');
    s.clock.advance(0);
    expect(s.remote.subscribed).toEqual([]);
    expect(s.b2b.size).toBe(0);
  });

  it('shares one remote subscription per presentity, event and identity; the last watcher ends it', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    const a = await watch(s, 'sip:app@here.example');
    const b = await watch(s, 'sip:app@here.example');
    const other = await watch(s, 'sip:other@here.example');
    await s.core.subscriptions.add(wsWatcher(CAROL, 'sock1'));
    s.clock.advance(0);
    // Identities: app (a, b), other, and the default one of the browser.
    expect(s.remote.subscribed.map((r) => r.from)).toEqual([
      'sip:app@here.example',
      'sip:other@here.example',
      'sip:presence-hub@here.example',
    ]);
    const shared = s.remote.subscribed[0].key;
    expect(s.b2b.remoteOf(a.id)).toBe(s.b2b.remoteOf(b.id));
    expect(s.b2b.remoteOf(a.id)?.subscribers.size).toBe(2);
    await s.remote.notify(shared, 'active', PIDF('open'), 'application/pidf+xml');
    await s.qsa.unsubscribe(a.id);
    expect(s.remote.unsubscribed).toEqual([]);
    await s.qsa.unsubscribe(b.id);
    await until(() => s.remote.unsubscribed.length === 1, 'the unsubscribe');
    expect(s.remote.unsubscribed).toEqual([shared]);
    await until(() => s.core.store.find(CAROL, 'presence').length === 0, 'the remote state withdrawn');
    await s.qsa.unsubscribe(other.id);
    await until(() => s.remote.unsubscribed.length === 2, 'the second unsubscribe');
    expect(s.b2b.size).toBe(1);
  });

  it('at shutdown leaves remote subscriptions whose watchers go to the next start', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    const a = await watch(s, 'sip:app@here.example');
    s.clock.advance(0);
    s.b2b.onModuleDestroy();
    await s.core.subscriptions.drop(a, 'socket closed');
    await s.clock.flush();
    expect(s.remote.unsubscribed).toEqual([]);
    expect(s.b2b.size).toBe(0);
  });

  it('holds one remote subscription per watcher when sharing is off', async () => {
    const s = setup({ shareSubscriptions: false });
    s.b2b.onApplicationBootstrap();
    await watch(s, 'sip:app@here.example');
    await watch(s, 'sip:app@here.example');
    s.clock.advance(0);
    expect(s.remote.subscribed).toHaveLength(2);
    expect(new Set(s.remote.subscribed.map((r) => r.key)).size).toBe(2);
  });

  it('spreads initial SUBSCRIBEs over maxSubscribeDelay; one whose watcher left before its turn is never sent', async () => {
    const s = setup({ maxSubscribeDelay: 10 });
    s.b2b.onApplicationBootstrap();
    for (let i = 0; i < 20; i++) await watch(s, `sip:app${i}@here.example`);
    const gone = await watch(s, 'sip:gone@here.example');
    await s.qsa.unsubscribe(gone.id);
    s.clock.advance(0);
    expect(s.remote.subscribed.length).toBeLessThan(5);
    s.clock.advance(5_000);
    expect(s.remote.subscribed.length).toBeGreaterThan(5);
    expect(s.remote.subscribed.length).toBeLessThan(15);
    s.clock.advance(5_000);
    expect(s.remote.subscribed).toHaveLength(20);
    expect(s.remote.subscribed.some((r) => r.from === 'sip:gone@here.example')).toBe(false);
    expect(s.remote.unsubscribed).toEqual([]);
  });

  it('passes documents of a package no module knows through (dialog)', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    await watch(s, 'sip:app@here.example', 'dialog');
    s.clock.advance(0);
    const doc = '<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="x"/>';
    await s.remote.notify(s.remote.subscribed[0].key, 'active', doc, 'application/dialog-info+xml');
    await until(() => s.got.length === 2, 'the dialog document');
    expect(s.got[1].body).toEqual({ contentType: 'application/dialog-info+xml', body: doc });
    expect(s.core.packages.get('dialog')?.toJson(s.got[1].state)).toEqual({
      contentType: 'application/dialog-info+xml',
      body: doc,
    });
  });

  it('adds at most MAX_PASS_THROUGH_PACKAGES pass-through packages when asked to limit them', () => {
    const s = setup();
    for (let i = 0; i < MAX_PASS_THROUGH_PACKAGES; i++) s.b2b.ensurePackage(`x-made-up-${i}`, true);
    s.b2b.ensurePackage('x-made-up-0', true);
    s.b2b.ensurePackage('presence', true);
    expect(() => {
      s.b2b.ensurePackage('x-one-more', true);
    }).toThrow(expect.objectContaining({ status: 400, field: 'event' }));
    expect(s.core.packages.get('x-one-more')).toBeUndefined();
    s.b2b.ensurePackage('x-restored', false);
    expect(s.core.packages.get('x-restored')).toBeDefined();
  });

  it('withdraws the state on a terminating NOTIFY and tells browsers when the remote ends it for good', async () => {
    const s = setup();
    s.b2b.onApplicationBootstrap();
    const ws = wsWatcher(CAROL, 'sock1');
    await s.core.subscriptions.add(ws);
    const rest = await s.qsa.subscribe({
      owner: B2B_OWNER,
      presentity: CAROL,
      event: 'presence',
      watcher: 'sip:presence-hub@here.example',
    });
    s.clock.advance(0);
    expect(s.remote.subscribed).toHaveLength(1);
    const key = s.remote.subscribed[0].key;
    await s.remote.notify(key, 'active', PIDF('open'), 'application/pidf+xml');
    await s.remote.notify(key, 'terminated', '', undefined, 'rejected');
    expect(s.core.store.find(CAROL, 'presence')).toEqual([]);
    s.remote.status(key, { state: 'terminated', lastStatus: 0, lastReason: 'rejected' });
    await until(() => s.core.registry.get(ws.id) === undefined, 'the browser watcher ended');
    expect(s.core.registry.get(rest.id)).toBeDefined();
  });

  it('after a restart resumes what has watchers and ends what has none', async () => {
    const remote = new FakeRemote();
    const before = setup({}, remote);
    before.b2b.onApplicationBootstrap();
    const kept = await before.qsa.subscribe({
      owner: B2B_OWNER,
      presentity: CAROL,
      event: 'presence',
      watcher: 'sip:a@here.example',
    });
    await before.core.subscriptions.add(wsWatcher('sip:dave@remote.example', 'sock1'));
    before.clock.advance(0);
    expect(remote.subscribed).toHaveLength(2);
    const [keptKey, wsKey] = remote.subscribed.map((r) => r.key);

    // A new process: stored internal watchers come back, the browser socket does not; the client kept both.
    const core = createPresenceCore({ clock: new FakeClock(), random: new SequenceRandom() });
    for (const [id, row] of before.core.storedInternal) core.storedInternal.set(id, row);
    const after = setup({}, remote, core);
    await after.qsa.onModuleInit();
    after.b2b.onApplicationBootstrap();
    after.clock.advance(0);
    expect(remote.subscribed).toHaveLength(2);
    await until(() => remote.unsubscribed.length === 1, 'the unsubscribe of the orphan');
    expect(remote.unsubscribed).toEqual([wsKey]);
    expect(after.b2b.remoteOf(kept.id)?.key).toBe(keptKey);
  });
});
