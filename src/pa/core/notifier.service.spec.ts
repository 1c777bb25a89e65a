import type { ContactChange } from '../../location/binding';
import type { LocationService } from '../../location/location.service';
import type { EventPackage, PresentityState } from './event-package';
import { EventPackageRegistry } from './event-package.registry';
import { Notifier } from './notifier.service';
import type { PublicationStore } from './publication.store';
import type { Delivery, InternalSubscription } from './subscription';
import { SubscriptionRegistry } from './subscription.registry';

const ALICE = 'sip:alice@example.com';

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

function setup(): { notifier: Notifier; registry: SubscriptionRegistry; register: (n: number) => void } {
  let listener: ((c: ContactChange) => void) | undefined;
  let contacts = 0;
  const location = {
    onChange: (l: (c: ContactChange) => void) => (listener = l),
    lookup: () =>
      Array.from({ length: contacts }, (_, i) => ({
        id: `c${i}`,
        uri: `sip:a${i}@h`,
        expiresAt: 0,
        callId: 'x',
        cseq: 1,
      })),
  } as unknown as LocationService;
  const store = { find: () => [] } as unknown as PublicationStore;
  const packages = new EventPackageRegistry();
  packages.add(countingPackage('quiet', false));
  packages.add(countingPackage('chatty', true));
  const registry = new SubscriptionRegistry();
  const notifier = new Notifier(packages, store, registry, location);
  notifier.onModuleInit();
  const register = (n: number): void => {
    contacts = n;
    listener?.({ aor: ALICE } as ContactChange);
  };
  return { notifier, registry, register };
}

function watcher(event: string, got: Delivery[]): InternalSubscription {
  return {
    kind: 'internal',
    id: `w-${event}`,
    presentity: ALICE,
    event,
    watcher: 'sip:bob@example.com',
    accept: [],
    status: 'active',
    expiresAt: Date.now() + 3_600_000,
    createdAt: Date.now(),
    deliver: (d) => got.push(d),
  };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));

describe('Notifier', () => {
  it('sends nothing for a change that renders the body the watcher was last sent', async () => {
    const { notifier, registry, register } = setup();
    const got: Delivery[] = [];
    const sub = watcher('quiet', got);
    registry.add(sub);
    await notifier.notifyOne(sub);
    register(1);
    await settle();
    register(1); // a refresh: same contacts, same body
    await settle();
    register(2);
    await settle();
    expect(got.map((d) => d.body?.body)).toEqual(['contacts=0', 'contacts=1', 'contacts=2']);
  });

  it('notifies unchanged state when the package asks for it', async () => {
    const { notifier, registry, register } = setup();
    const got: Delivery[] = [];
    const sub = watcher('chatty', got);
    registry.add(sub);
    await notifier.notifyOne(sub);
    register(1);
    await settle();
    register(1);
    await settle();
    expect(got.map((d) => d.body?.body)).toEqual(['contacts=0', 'contacts=1', 'contacts=1']);
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
});
