import type { Binding, ContactChange, ContactEventType } from '../../location/binding';
import type { AorAttributesService, AttributeChange } from '../../location/aor-attributes.service';
import type { LocationService } from '../../location/location.service';
import { systemClock } from '../../sip';
import { versionedPackage } from '../../../test/utils/versioned-package';
import type { EventPackage, PresentityState, WatcherView } from './event-package';
import { EventPackageRegistry } from './event-package.registry';
import { Notifier } from './notifier.service';
import type { PublicationStore } from './publication.store';
import type { Delivery, InternalSubscription } from './subscription';
import { SubscriptionRegistry } from './subscription.registry';
import { WatcherGate } from './watcher-gate';

const ALICE = 'sip:alice@example.com';

function binding(n: number): Binding {
  return {
    id: `c${n}`,
    domain: 'example.com',
    aor: ALICE,
    uri: `sip:alice@10.0.0.${n}`,
    expiresAt: Date.now() + 60_000,
    callId: `call-${n}`,
    cseq: 1,
    path: [],
    userAgent: 'test',
    source: {
      protocol: 'udp',
      remoteAddress: '10.0.0.1',
      remotePort: 5060,
      localAddress: '127.0.0.1',
      localPort: 5060,
    },
    createdAt: 0,
    updatedAt: 0,
  };
}

/** A package whose body is the count of the presentity's contacts, so a refresh renders the same body. */
function countingPackage(name: string, notifiesUnchanged: boolean): EventPackage {
  return {
    name,
    notifyContentTypes: ['text/plain'],
    subscribeExpires: { default: 3600, min: 60, max: 7200 },
    followsRegistrations: true,
    notifiesUnchanged,
    render: (state: PresentityState) => ({ contentType: 'text/plain', body: `contacts=${state.contacts.length}` }),
    toJson: (state: PresentityState) => ({ contacts: state.contacts.length }),
  };
}

interface Setup {
  notifier: Notifier;
  registry: SubscriptionRegistry;
  /** The location service reports a change of alice's bindings with one event per binding given. */
  contacts(bindings: Binding[], events: [Binding, ContactEventType][]): void;
  /** The location service is about to commit such a change: what the notifier queued to ride with it. */
  committing(bindings: Binding[], events: [Binding, ContactEventType][]): Promise<unknown> | undefined;
  renders: WatcherView[];
}

function setup(attributes?: AorAttributesService): Setup {
  let listener: ((c: ContactChange) => void) | undefined;
  let rider: ((c: ContactChange) => Promise<unknown> | undefined) | undefined;
  let current: Binding[] = [];
  const location = {
    beforeCommit: (r: (c: ContactChange) => Promise<unknown> | undefined) => (rider = r),
    onChange: (l: (c: ContactChange) => void) => (listener = l),
    lookup: () => current,
  } as unknown as LocationService;
  const store = { find: () => [] } as unknown as PublicationStore;
  const packages = new EventPackageRegistry();
  const renders: WatcherView[] = [];
  packages.add(countingPackage('quiet', false));
  packages.add(countingPackage('chatty', true));
  packages.add(versionedPackage('versioned', renders));
  packages.add({
    ...versionedPackage('ahead', renders),
    nextState: (current) => ({ version: current === undefined ? 0 : (current as { version: number }).version + 1 }),
  });
  const registry = new SubscriptionRegistry();
  packages.add({ ...countingPackage('attributed', true), aorAttributes: ['identities'] });
  const notifier = new Notifier(packages, store, registry, location, systemClock, new WatcherGate(), attributes);
  notifier.onModuleInit();
  const change = (bindings: Binding[], events: [Binding, ContactEventType][]): ContactChange => ({
    domain: 'example.com',
    aor: ALICE,
    events: events.map(([b, type]) => ({ type, binding: b })),
    bindings,
  });
  const contacts = (bindings: Binding[], events: [Binding, ContactEventType][]): void => {
    current = bindings;
    listener?.(change(bindings, events));
  };
  const committing = (bindings: Binding[], events: [Binding, ContactEventType][]): Promise<unknown> | undefined =>
    rider?.(change(bindings, events));
  return { notifier, registry, contacts, committing, renders };
}

function watcher(event: string, got: Delivery[], extra: Partial<InternalSubscription> = {}): InternalSubscription {
  return {
    kind: 'internal',
    owner: 'test',
    id: `w-${event}-${got.length}-${Math.random()}`,
    presentity: ALICE,
    event,
    watcher: 'sip:bob@example.com',
    accept: [],
    status: 'active',
    expiresAt: Date.now() + 3_600_000,
    createdAt: Date.now(),
    deliver: (d) => got.push(d),
    ...extra,
  };
}

/** `n` watchers of `quiet` added to `registry`; what each one got. */
function addWatchers(registry: SubscriptionRegistry, n: number): Delivery[][] {
  const got: Delivery[][] = [];
  for (let i = 0; i < n; i++) {
    const mine: Delivery[] = [];
    got.push(mine);
    registry.add(watcher('quiet', mine));
  }
  return got;
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));
const bodies = (got: Delivery[]): unknown[] => got.map((d) => d.body?.body);

describe('Notifier', () => {
  const one = binding(1);
  const two = binding(2);

  /** One watcher of `event` that got the state, then a binding created, refreshed, and a second one created. */
  async function createRefreshAdd(event: string): Promise<Delivery[]> {
    const { notifier, registry, contacts } = setup();
    const got: Delivery[] = [];
    const sub = watcher(event, got);
    registry.add(sub);
    await notifier.notifyOne(sub);
    contacts([one], [[one, 'created']]);
    await settle();
    contacts([one], [[one, 'refreshed']]);
    await settle();
    contacts([one, two], [[two, 'created']]);
    await settle();
    return got;
  }

  it('sends nothing for a change that renders the body the watcher was last sent', async () => {
    expect(bodies(await createRefreshAdd('quiet'))).toEqual(['contacts=0', 'contacts=1', 'contacts=2']);
  });

  it('notifies unchanged state when the package asks for it', async () => {
    expect(bodies(await createRefreshAdd('chatty'))).toEqual(['contacts=0', 'contacts=1', 'contacts=1', 'contacts=2']);
  });

  it('fans out in slices and never gives a watcher an older state after a newer one', async () => {
    const { registry, contacts } = setup();
    const got = addWatchers(registry, 300);
    contacts([one], [[one, 'created']]);
    // The fan-out to 300 watchers takes several turns of the event loop: change again in the middle of it.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const reached = got.filter((g) => g.length > 0).length;
    expect(reached).toBeGreaterThan(0);
    expect(reached).toBeLessThan(300);
    contacts([one, two], [[two, 'created']]);
    for (let i = 0; i < 20; i++) await settle();
    for (const mine of got) expect(bodies(mine)).toEqual(['contacts=1', 'contacts=2']);
  });

  it('keeps every state that changed during a round, in order, rather than only the last', async () => {
    const { registry, contacts } = setup();
    const three = binding(3);
    const got = addWatchers(registry, 300);
    contacts([one], [[one, 'created']]);
    await new Promise((r) => setImmediate(r));
    // Two changes while the first fan-out is still going out: both states reach every watcher.
    contacts([one, two], [[two, 'created']]);
    contacts([one, two, three], [[three, 'created']]);
    for (let i = 0; i < 30; i++) await settle();
    for (const mine of got) expect(bodies(mine)).toEqual(['contacts=1', 'contacts=2', 'contacts=3']);
  });

  it('leaves the turns between slices to reading while a channel has input waiting, at most 16 per slice', async () => {
    const { notifier, registry, contacts } = setup();
    let pending = true;
    let checks = 0;
    notifier.addChannel({
      kind: 'sip',
      deliver: () => undefined,
      inputPending: () => {
        checks++;
        return pending;
      },
    });
    const got = addWatchers(registry, 130);
    const reached = (): number => got.filter((g) => g.length > 0).length;
    const turns = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    contacts([one], [[one, 'created']]);
    await turns(8);
    // The first slice went out; while input waits, the next one does not.
    expect(reached()).toBe(64);
    expect(checks).toBeGreaterThan(3);
    pending = false;
    await turns(6);
    expect(reached()).toBe(130);
    // Input that never drains delays each slice by 16 turns, not for ever.
    pending = true;
    contacts([one, two], [[two, 'created']]);
    const second = (): number => got.filter((g) => g.length > 1).length;
    await turns(8);
    expect(second()).toBe(64);
    await turns(40);
    expect(second()).toBe(130);
  });

  it('always answers a SUBSCRIBE or refresh with the state, even when unchanged', async () => {
    const { notifier, registry } = setup();
    const got: Delivery[] = [];
    const sub = watcher('quiet', got);
    registry.add(sub);
    await notifier.notifyOne(sub);
    await notifier.notifyOne(sub);
    await notifier.terminate(sub, 'timeout');
    expect(got.map((d) => [d.body?.body, d.terminated])).toEqual([
      ['contacts=0', undefined],
      ['contacts=0', undefined],
      ['contacts=0', 'timeout'],
    ]);
  });

  it('renders per watcher with package state, change details and Event parameters', async () => {
    const { notifier, registry, contacts, renders } = setup();
    const a: Delivery[] = [];
    const b: Delivery[] = [];
    const first = watcher('versioned', a);
    const second = watcher('versioned', b, { eventParams: { view: 'mine' } });
    registry.add(first);
    await notifier.notifyOne(first);
    contacts([one], [[one, 'created']]);
    await settle();
    registry.add(second);
    await notifier.notifyOne(second);
    // Two changes within one turn reach the package together, oldest first.
    contacts([one, two], [[two, 'created']]);
    contacts([two], [[one, 'unregistered']]);
    await settle();

    expect(bodies(a)).toEqual([
      'v0 all full:',
      'v1 all partial:c1/created',
      'v2 all partial:c2/created,c1/unregistered',
    ]);
    expect(bodies(b)).toEqual(['v0 mine full:c1', 'v1 mine partial:c2/created,c1/unregistered']);
    expect(first.packageState).toEqual({ version: 2 });
    expect(second.packageState).toEqual({ version: 1 });
    expect(renders.every((w) => w.session !== undefined)).toBe(true);
  });

  it('renders once per distinct Accept for packages that share bodies', async () => {
    const { notifier, registry, contacts } = setup();
    const got: Delivery[] = [];
    const subs = [watcher('quiet', got), watcher('quiet', got), watcher('quiet', got)];
    for (const s of subs) registry.add(s);
    for (const s of subs) await notifier.notifyOne(s);
    contacts([one], [[one, 'created']]);
    await settle();
    const changed = got.slice(3).map((d) => d.body);
    expect(changed).toHaveLength(3);
    expect(changed[1]).toBe(changed[0]);
    expect(changed[2]).toBe(changed[0]);
  });

  it('gives each delivery the package state it left, and keeps no last body hash when unchanged state is notified', async () => {
    const { notifier, registry, contacts } = setup();
    const got: Delivery[] = [];
    const sub = watcher('versioned', got);
    registry.add(sub);
    await notifier.notifyOne(sub);
    contacts([one], [[one, 'created']]);
    await settle();
    expect(got.map((d) => [d.packageStateChanged, d.packageState])).toEqual([
      [true, { version: 0 }],
      [true, { version: 1 }],
    ]);
    expect(sub.lastBodyHash).toBeUndefined();
  });

  it('loads the attributes a package asks for and notifies its watchers when one changes', async () => {
    let listener: ((c: AttributeChange) => void) | undefined;
    let identities = 'sip:a@example.com';
    const attributes = {
      onChange: (l: (c: AttributeChange) => void) => (listener = l),
      cached: () => Promise.resolve({ identities, other: 'x' }),
    } as unknown as AorAttributesService;
    const { notifier, registry } = setup(attributes);
    const got: Delivery[] = [];
    const other: Delivery[] = [];
    registry.add(watcher('attributed', got));
    registry.add(watcher('quiet', other));
    expect((await notifier.state(ALICE, 'attributed')).attributes).toEqual({ identities });
    expect((await notifier.state(ALICE, 'quiet')).attributes).toBeUndefined();
    identities = 'sip:b@example.com';
    listener?.({ domain: 'example.com', aor: ALICE, key: 'identities', value: identities });
    listener?.({ domain: 'example.com', aor: ALICE, key: 'unrelated', value: 'y' });
    await settle();
    expect(got.map((d) => d.state.attributes)).toEqual([{ identities: 'sip:b@example.com' }]);
    expect(other).toEqual([]);
  });

  it("stores a watcher's next package state with the registration change when the package knows it ahead", async () => {
    const { notifier, registry, contacts, committing } = setup();
    const stored: [string, unknown][] = [];
    notifier.addChannel({
      kind: 'ws',
      deliver: () => undefined,
      storeAhead: (sub, state) => {
        stored.push([sub.event, state]);
        return Promise.resolve();
      },
    });
    const ws = (event: string, status: 'active' | 'pending' = 'active') =>
      ({ ...watcher(event, []), kind: 'ws', client: 'c', clientId: event, status }) as const;
    const ahead = ws('ahead');
    registry.add(ahead);
    registry.add(ws('ahead', 'pending'));
    registry.add(ws('versioned'));
    await notifier.notifyOne(ahead);
    expect(ahead.packageState).toEqual({ version: 0 });
    await committing([one], [[one, 'created']]);
    // Only the active watcher of the package that knows its next state, with the state its next NOTIFY leaves.
    expect(stored).toEqual([['ahead', { version: 1 }]]);
    contacts([one], [[one, 'created']]);
    await settle();
    expect(ahead.packageState).toEqual({ version: 1 });
    // A change without a channel that stores ahead queues nothing.
    expect(setup().committing([one], [[one, 'created']])).toBeUndefined();
  });
});
