import type { AppConfig, WatcherDefaultPolicy } from '../../config/app-config';
import { createPresenceCore, type PresenceCore } from '../../../test/utils/presence-core-harness';
import type { Delivery, InternalSubscription } from '../core/subscription';
import { MAX_PENDING_PER_PRESENTITY, WatcherPolicyService } from './watcher-policy.service';
import type { WatcherRule, WatcherRuleRepository } from './watcher-rule.repository';

const ALICE = 'sip:alice@example.com';
const BOB = 'sip:bob@example.com';
const STRANGER = 'sip:carol@elsewhere.net';

/** The policy service over the presence core harness and an in-memory rule table. */
async function setUp(
  defaultPolicy: WatcherDefaultPolicy,
  stored: WatcherRule[] = [],
): Promise<{ policy: WatcherPolicyService; core: PresenceCore; table: Map<string, WatcherRule> }> {
  const core = createPresenceCore();
  const table = new Map(stored.map((r) => [`${r.presentity} ${r.watcher}`, r]));
  const repo = {
    all: () => Promise.resolve([...table.values()]),
    save: (r: WatcherRule) => {
      table.set(`${r.presentity} ${r.watcher}`, r);
      return Promise.resolve();
    },
    remove: (p: string, w: string) => Promise.resolve(table.delete(`${p} ${w}`)),
  } as unknown as WatcherRuleRepository;
  const config = { watchers: { defaultPolicy } } as AppConfig;
  const policy = new WatcherPolicyService(
    repo,
    core.gate,
    core.registry,
    core.subscriptions,
    core.notifier,
    config,
    core.clock,
  );
  await policy.onModuleInit();
  return { policy, core, table };
}

function watcherOf(presentity: string, watcher: string, got: Delivery[]): InternalSubscription {
  return {
    kind: 'internal',
    owner: 'test',
    id: `${watcher}-${Math.random()}`,
    presentity,
    event: 'presence',
    watcher,
    accept: [],
    status: 'pending',
    expiresAt: Date.now() + 600_000,
    createdAt: Date.now(),
    deliver: (d) => got.push(d),
  };
}

describe('WatcherPolicyService', () => {
  it('allow by default keeps today’s behaviour and records nothing', async () => {
    const { policy, table } = await setUp('allow');
    expect(await policy.authorize(STRANGER, ALICE, 'presence')).toBe('active');
    expect(table.size).toBe(0);
  });

  it('same-domain: the presentity’s domain is allowed, others wait and are recorded as pending once', async () => {
    const { policy, table } = await setUp('same-domain');
    expect(await policy.authorize(BOB, ALICE, 'presence')).toBe('active');
    expect(await policy.authorize(STRANGER, ALICE, 'presence')).toBe('pending');
    expect(await policy.authorize(STRANGER, ALICE, 'presence')).toBe('pending');
    expect([...table.values()].map((r) => [r.watcher, r.policy])).toEqual([[STRANGER, 'pending']]);
    expect(policy.list(ALICE, 'pending').map((r) => r.watcher)).toEqual([STRANGER]);
  });

  it('records at most MAX_PENDING_PER_PRESENTITY waiting watchers per presentity', async () => {
    const { policy, table } = await setUp('pending');
    for (let i = 0; i <= MAX_PENDING_PER_PRESENTITY; i++) {
      expect(await policy.authorize(`sip:w${i}@elsewhere.net`, ALICE, 'presence')).toBe('pending');
    }
    expect(table.size).toBe(MAX_PENDING_PER_PRESENTITY);
  });

  it('own rule, then the presentity’s * rule, then the default; a user always watches itself', async () => {
    const now = Date.now();
    const { policy } = await setUp('deny', [
      { presentity: ALICE, watcher: '*', policy: 'polite-block', updatedAt: now },
      { presentity: ALICE, watcher: BOB, policy: 'allow', updatedAt: now },
    ]);
    expect(await policy.authorize(BOB, ALICE, 'presence')).toBe('active');
    expect(await policy.authorize(STRANGER, ALICE, 'presence')).toBe('polite-block');
    expect(policy.isPoliteBlocked(STRANGER, ALICE, 'presence')).toBe(true);
    expect(await policy.authorize(STRANGER, BOB, 'presence')).toBe('rejected');
    expect(await policy.authorize(ALICE, ALICE, 'presence')).toBe('active');
  });

  it('leaves other event packages to their own rules', async () => {
    const { policy } = await setUp('deny');
    expect(await policy.authorize(STRANGER, ALICE, 'reg')).toBe('active');
    expect(policy.isPoliteBlocked(STRANGER, ALICE, 'ua-profile')).toBe(false);
  });

  it('approval activates pending subscriptions with the state; denial ends them as rejected without state', async () => {
    const { policy, core } = await setUp('pending');
    const approvedGot: Delivery[] = [];
    const deniedGot: Delivery[] = [];
    const approved = watcherOf(ALICE, BOB, approvedGot);
    const denied = watcherOf(ALICE, STRANGER, deniedGot);
    core.registry.add(approved);
    core.registry.add(denied);

    await policy.setRule(ALICE, BOB, 'allow');
    expect(approved.status).toBe('active');
    expect(approvedGot).toHaveLength(1);
    expect(approvedGot[0].body?.contentType).toBe('application/pidf+xml');

    await policy.setRule(ALICE, STRANGER, 'deny');
    expect(deniedGot).toHaveLength(1);
    expect(deniedGot[0]).toMatchObject({ terminated: 'rejected', body: null });
    expect(core.registry.get(denied.id)).toBeUndefined();
  });

  it('refuses a rule for the presentity itself and removing a rule it does not have', async () => {
    const { policy } = await setUp('allow');
    await expect(policy.setRule(ALICE, ALICE, 'deny')).rejects.toMatchObject({ status: 400, field: 'watcher' });
    await expect(policy.removeRule(ALICE, BOB)).rejects.toMatchObject({ status: 404 });
  });
});
