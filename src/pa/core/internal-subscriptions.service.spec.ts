import { createPresenceCore, until, type PresenceCore } from '../../../test/utils/presence-core-harness';
import type { AppConfig } from '../../config/app-config';
import { InternalSubscriptions } from './internal-subscriptions.service';
import type { Delivery, Subscription } from './subscription';

const PIDF = (entity: string, basic: string): string =>
  `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}"><tuple id="t"><status><basic>${basic}</basic></status></tuple></presence>`;

function service(core: PresenceCore, domains: string[] = ['here.example'], accept = true): InternalSubscriptions {
  const config = { sip: { domains }, pa: { acceptInternalSubscriptions: accept } } as unknown as AppConfig;
  return new InternalSubscriptions(
    core.subscriptions,
    core.registry,
    core.subRepo,
    core.notifier,
    core.packages,
    config,
    core.clock,
    core.random,
  );
}

describe('InternalSubscriptions', () => {
  it('answers a local presentity from the core: first state at once, then every change, then the end', async () => {
    const core = createPresenceCore();
    const qsa = service(core);
    const got: Delivery[] = [];
    qsa.onDelivery('mod', (d) => got.push(d));
    const sub = await qsa.subscribe({
      owner: 'mod',
      presentity: 'sip:alice@here.example',
      event: 'presence',
      watcher: 'sip:mod@here.example',
    });
    expect(got).toHaveLength(1);
    expect(core.storedInternal.get(sub.id)).toMatchObject({ owner: 'mod', presentity: 'sip:alice@here.example' });

    await core.publisher.publish({
      presentity: 'sip:alice@here.example',
      event: 'presence',
      contentType: 'application/pidf+xml',
      body: PIDF('sip:alice@here.example', 'open'),
      source: 'test',
    });
    await until(() => got.length === 2, 'the published state');
    expect(got[1].body?.body).toContain('<basic>open</basic>');

    expect(await qsa.unsubscribe(sub.id)).toBe(true);
    expect(got[2].terminated).toBe('unsubscribed');
    expect(core.storedInternal.has(sub.id)).toBe(false);
    expect(await qsa.unsubscribe(sub.id)).toBe(false);
  });

  it('refuses local presentities when internal subscriptions are off, and unknown packages of local ones', async () => {
    const core = createPresenceCore();
    const off = service(core, ['here.example'], false);
    const req = {
      owner: 'mod',
      presentity: 'sip:alice@here.example',
      event: 'presence',
      watcher: 'sip:m@here.example',
    };
    await expect(off.subscribe(req)).rejects.toMatchObject({ status: 403 });
    await expect(service(core).subscribe({ ...req, event: 'dialog' })).rejects.toEqual(
      expect.objectContaining({ status: 400, field: 'event' }),
    );
    expect(core.registry.size).toBe(0);
    // A remote presentity of any package is accepted: B2B follows it.
    const remote = await off.subscribe({ ...req, presentity: 'sip:carol@there.example', event: 'dialog' });
    expect(off.isLocal(remote.presentity)).toBe(false);
    expect(remote).toMatchObject({ kind: 'internal', event: 'dialog' });
  });

  it('tells registry listeners about watchers coming and going', async () => {
    const core = createPresenceCore();
    const qsa = service(core);
    qsa.onDelivery('mod', () => undefined);
    const seen: [string, string][] = [];
    core.registry.onWatcher((s: Subscription, change) => seen.push([s.presentity, change]));
    const sub = await qsa.subscribe({
      owner: 'mod',
      presentity: 'sip:carol@there.example',
      event: 'presence',
      watcher: 'sip:mod@here.example',
    });
    await qsa.unsubscribe(sub.id);
    expect(seen).toEqual([
      ['sip:carol@there.example', 'added'],
      ['sip:carol@there.example', 'removed'],
    ]);
  });

  it('restores stored watchers at start; their deliveries reach the handler the owner registers later', async () => {
    const core = createPresenceCore();
    const before = service(core);
    before.onDelivery('mod', () => undefined);
    const sub = await before.subscribe({
      owner: 'mod',
      presentity: 'sip:alice@here.example',
      event: 'presence',
      watcher: 'sip:mod@here.example',
    });
    // A new process: an empty registry on the same stored rows.
    const restarted = createPresenceCore();
    for (const [id, row] of core.storedInternal) restarted.storedInternal.set(id, row);
    const after = service(restarted);
    await after.onModuleInit();
    const got: Delivery[] = [];
    after.onDelivery('mod', (d) => got.push(d));
    expect(after.list('mod').map((s) => s.id)).toEqual([sub.id]);
    await restarted.publisher.publish({
      presentity: 'sip:alice@here.example',
      event: 'presence',
      contentType: 'application/pidf+xml',
      body: PIDF('sip:alice@here.example', 'closed'),
      source: 'test',
    });
    await until(() => got.length === 1, 'the state after restart');
    expect(got[0].subscription.id).toBe(sub.id);
  });
});
