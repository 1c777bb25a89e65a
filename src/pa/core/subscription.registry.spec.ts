import type { InternalSubscription } from './subscription';
import { SubscriptionRegistry } from './subscription.registry';

const internal = (id: string, presentity: string, event = 'presence'): InternalSubscription => ({
  kind: 'internal',
  owner: 'test',
  id,
  presentity,
  event,
  watcher: `sip:${id}@example.com`,
  accept: [],
  status: 'active',
  expiresAt: 2_000_000,
  createdAt: 1_000_000,
  deliver: () => undefined,
});

describe('SubscriptionRegistry', () => {
  it('indexes watchers by (event, presentity) and gives the presentity string it holds to the next watcher', () => {
    const registry = new SubscriptionRegistry();
    expect(registry.held('sip:alice@example.com', 'presence')).toBeUndefined();
    registry.add(internal('a', 'sip:alice@example.com'));
    registry.add(internal('b', 'sip:alice@example.com'));
    registry.add(internal('c', 'sip:alice@example.com', 'reg'));
    expect(registry.held('sip:alice@example.com', 'presence')).toBe('sip:alice@example.com');
    expect(registry.held('sip:bob@example.com', 'presence')).toBeUndefined();
    expect(registry.watchers('sip:alice@example.com', 'presence').map((s) => s.id)).toEqual(['a', 'b']);
    registry.remove(registry.get('a')!);
    registry.remove(registry.get('b')!);
    expect(registry.held('sip:alice@example.com', 'presence')).toBeUndefined();
    expect(registry.held('sip:alice@example.com', 'reg')).toBe('sip:alice@example.com');
  });

  it('hands out expired subscriptions in expiry order, once', () => {
    const registry = new SubscriptionRegistry();
    const late = internal('late', 'sip:alice@example.com');
    const early = { ...internal('early', 'sip:bob@example.com'), expiresAt: 1_500_000 };
    registry.add(late);
    registry.add(early);
    expect(registry.expired(1_600_000).map((s) => s.id)).toEqual(['early']);
    registry.remove(early);
    expect(registry.expired(2_100_000).map((s) => s.id)).toEqual(['late']);
  });
});
