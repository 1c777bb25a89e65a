import type { SipBridge } from '../../sip-bridge/sip-bridge.service';
import type { Notifier } from './notifier.service';
import { SipNotifyChannel } from './sip-notify.channel';
import type { Delivery, SipSubscription } from './subscription';
import type { SubscriptionRepository } from './subscription.repository';
import type { SubscriptionService } from './subscription.service';

interface Sent {
  readonly body: string | undefined;
  readonly answer: (status: number) => void;
}

function setup() {
  const sent: Sent[] = [];
  const saved: unknown[] = [];
  const dropped: string[] = [];
  const bridge = {
    stopping: false,
    localContact: () => '<sip:hub@127.0.0.1>',
    hasConnection: () => false,
    sendRequest: (req: { body?: string }) =>
      new Promise<{ status: number; reason: string }>((resolve) => {
        sent.push({
          body: req.body,
          answer: (status) => {
            resolve({ status, reason: 'OK' });
          },
        });
      }),
  } as unknown as SipBridge;
  let stored: string | undefined;
  const repo = {
    reserve: (_s: SipSubscription, packageState: unknown) => {
      saved.push(packageState);
      stored = JSON.stringify(packageState);
      return Promise.resolve();
    },
    holds: (_s: SipSubscription, packageState: unknown) => stored === JSON.stringify(packageState),
  } as unknown as SubscriptionRepository;
  const channel = new SipNotifyChannel(
    bridge,
    { addChannel: () => undefined } as unknown as Notifier,
    {
      drop: (s: SipSubscription, why: string) => {
        dropped.push(`${s.id}: ${why}`);
        return Promise.resolve();
      },
    } as unknown as SubscriptionService,
    repo,
  );
  const sub = {
    kind: 'sip',
    id: 's1',
    event: 'versioned',
    status: 'active',
    flow: {},
    cseqReserved: 1000,
    dialog: {
      localSeq: 1,
      createRequest: (_m: string, _h: unknown, body?: { body: string }) => ({ body: body?.body }),
    },
  } as unknown as SipSubscription;
  const delivery = (body: string, packageState?: unknown): Delivery => ({
    subscription: sub,
    state: { presentity: 'sip:a@example.com', event: 'versioned', publications: [], contacts: [], now: 0 },
    body: { contentType: 'text/plain', body },
    expires: 60,
    ...(packageState !== undefined && { packageStateChanged: true, packageState }),
  });
  return { channel, sub, sent, saved, dropped, delivery, bridge: bridge as unknown as { stopping: boolean } };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));

describe('SipNotifyChannel', () => {
  it('keeps four states waiting in order behind the one NOTIFY in flight, then coalesces into the newest', async () => {
    const { channel, sent, delivery } = setup();
    for (const body of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) channel.deliver(delivery(body));
    await settle();
    expect(sent.map((s) => s.body)).toEqual(['a']);
    for (let i = 0; i < 5; i++) {
      sent[i]?.answer(200);
      await settle();
    }
    expect(sent.map((s) => s.body)).toEqual(['a', 'b', 'c', 'd', 'g']);
  });

  it('sends every NOTIFY that advanced the package state, in order, storing the state each one left', async () => {
    const { channel, sent, saved, delivery } = setup();
    channel.deliver(delivery('v0', { version: 0 }));
    channel.deliver(delivery('v1', { version: 1 }));
    channel.deliver(delivery('v2', { version: 2 }));
    for (let i = 0; i < 3; i++) {
      await settle();
      sent[i]?.answer(200);
    }
    await settle();
    expect(sent.map((s) => s.body)).toEqual(['v0', 'v1', 'v2']);
    expect(saved).toEqual([{ version: 0 }, { version: 1 }, { version: 2 }]);
  });

  it('sends a NOTIFY whose package state was stored ahead without storing it again', async () => {
    const { channel, sub, sent, saved, delivery } = setup();
    await channel.storeAhead(sub, { version: 4 });
    channel.deliver(delivery('v4', { version: 4 }));
    await settle();
    sent[0].answer(200);
    channel.deliver(delivery('v5', { version: 5 }));
    await settle();
    expect(sent.map((s) => s.body)).toEqual(['v4', 'v5']);
    // Only the state that was not stored ahead is stored before its NOTIFY.
    expect(saved).toEqual([{ version: 4 }, { version: 5 }]);
  });

  it('ends the subscription on a 481, but not on the 503 of its own transport while shutting down', async () => {
    const first = setup();
    first.channel.deliver(first.delivery('a'));
    await settle();
    first.sent[0].answer(481);
    await settle();
    expect(first.dropped).toEqual(['s1: NOTIFY answered 481']);

    const second = setup();
    second.bridge.stopping = true;
    second.channel.deliver(second.delivery('a'));
    await settle();
    second.sent[0].answer(503);
    await settle();
    expect(second.dropped).toEqual([]);
  });
});
