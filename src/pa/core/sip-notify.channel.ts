import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { SipResponse } from '../../sip';
import { SipBridge } from '../../sip-bridge/sip-bridge.service';
import { Notifier } from './notifier.service';
import type { Delivery, SipSubscription, Subscription, WatcherChannel } from './subscription';
import { SubscriptionRepository } from './subscription.repository';
import { SubscriptionService } from './subscription.service';

/** Responses to a NOTIFY after which the subscription is gone (RFC 6665 §4.2.2, RFC 5057 §5.1). */
const ENDS_SUBSCRIPTION = new Set([404, 405, 408, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 502, 503, 604]);

import { CSEQ_BLOCK } from './subscription';

/**
 * States a dialog keeps waiting, in order, behind the NOTIFY in flight; past it a new state replaces the last
 * one waiting. A watcher answering within a few changes gets every one of them (each PUBLISH its NOTIFY), one
 * that lags further gets the newest, and what a slow watcher holds stays bounded.
 */
const STATES_KEPT_WAITING = 4;

/** The queue of a dialog with a NOTIFY in flight and none waiting (shared: never added to). */
const NONE_WAITING: Delivery[] = [];

/** The NOTIFY's Event header: the package, the subscription's `id`, and the parameters the body asks for. */
function eventHeader(sub: SipSubscription, d: Delivery): string {
  let value = sub.eventId ? `${sub.event};id=${sub.eventId}` : sub.event;
  const params = d.terminated ? undefined : d.body?.eventHeaderParams;
  if (params) for (const [name, v] of Object.entries(params)) value += `;${name}=${v}`;
  return value;
}

/**
 * Whether a waiting delivery may give way to a newer one: not when it ends the subscription, nor when the
 * package advanced the watcher's state with it (a `reg` version and partial state must all reach the watcher).
 */
function replaceable(d: Delivery): boolean {
  return !d.terminated && !d.packageStateChanged;
}

/**
 * Delivers state to SIP watchers as NOTIFY in their dialog (RFC 6665 §4.2.2): CSeq increasing and
 * reserved in blocks in the database so that it keeps increasing across a restart; one NOTIFY in flight
 * per dialog, up to STATES_KEPT_WAITING later changes waiting in order and further ones coalesced into the
 * newest (except those that advanced the package's state for the watcher: they wait their turn); NOTIFYs to
 * TCP and WS watchers over their connection (and to UDP watchers over TCP when too large for a datagram, as the stack decides); a NOTIFY
 * answered 481, timing out or failing to be sent ends the subscription, with a warning in the log.
 */
@Injectable()
export class SipNotifyChannel implements WatcherChannel, OnModuleInit {
  readonly kind = 'sip' as const;
  private readonly log = new Logger('SipNotify');

  constructor(
    private readonly bridge: SipBridge,
    private readonly notifier: Notifier,
    private readonly subscriptions: SubscriptionService,
    private readonly repo: SubscriptionRepository,
  ) {}

  onModuleInit(): void {
    this.notifier.addChannel(this);
  }

  deliver(delivery: Delivery): void {
    const sub = delivery.subscription as SipSubscription;
    const waiting = sub.notifyQueue;
    if (waiting !== undefined) {
      const last = waiting.at(-1);
      // Nothing follows a terminating delivery.
      if (last?.terminated) return;
      if (last && replaceable(last) && waiting.length >= STATES_KEPT_WAITING) waiting[waiting.length - 1] = delivery;
      else if (waiting === NONE_WAITING) sub.notifyQueue = [delivery];
      else waiting.push(delivery);
      return;
    }
    // The queue is on the subscription, not in a map by id: under fan-out a map whose entries come and go with
    // every NOTIFY re-hashes into new tables that outlive young-generation collections (see ClientTable).
    sub.notifyQueue = NONE_WAITING;
    void this.run(sub, delivery);
  }

  inputPending(): boolean {
    return this.bridge.inputPending();
  }

  storeAhead(sub: Subscription, packageState: unknown): Promise<void> {
    return this.repo.reserve(sub as SipSubscription, packageState);
  }

  private async run(sub: SipSubscription, first: Delivery): Promise<void> {
    let delivery: Delivery | undefined = first;
    while (delivery) {
      const ended = await this.send(sub, delivery);
      delivery = ended || delivery.terminated ? undefined : sub.notifyQueue?.shift();
    }
    sub.notifyQueue = undefined;
  }

  /**
   * Builds and sends the NOTIFY for `d`. Apart from the async function awaiting it, so that the request (with its
   * fields) is not kept while the NOTIFY is in flight: only its bytes are, in the transaction.
   */
  private notify(sub: SipSubscription, d: Delivery): Promise<SipResponse> {
    const state = d.terminated
      ? `terminated;reason=${d.terminated === 'unsubscribed' ? 'timeout' : d.terminated}`
      : `${sub.status};expires=${d.expires}`;
    const headers: Record<string, string> = {
      Event: eventHeader(sub, d),
      'Subscription-State': state,
      Contact: this.bridge.localContact(sub.flow),
    };
    const req = sub.dialog.createRequest('NOTIFY', headers, d.body ?? undefined);
    const target = sub.flow.connectionId && this.bridge.hasConnection(sub.flow) ? sub.flow : undefined;
    return this.bridge.sendRequest(req, target);
  }

  /** Sends one NOTIFY; resolves true when the subscription ended. */
  private async send(sub: SipSubscription, d: Delivery): Promise<boolean> {
    try {
      const newBlock = sub.dialog.localSeq + 1 > sub.cseqReserved;
      if (newBlock) sub.cseqReserved = sub.dialog.localSeq + CSEQ_BLOCK;
      // The package state this NOTIFY reflects is committed before the NOTIFY goes out, as a new CSeq block is
      // (unless it was stored ahead, with the change that caused the NOTIFY).
      const stateToStore = d.packageStateChanged === true && !this.repo.holds(sub, d.packageState);
      if (newBlock || stateToStore) await this.repo.reserve(sub, d.packageStateChanged ? d.packageState : undefined);
      const res = await this.notify(sub, d);
      if (res.status >= 200 && res.status < 300) return false;
      // Our own transports closing at shutdown answer 503 for the watcher: it keeps its subscription.
      if (this.bridge.stopping) return false;
      if (ENDS_SUBSCRIPTION.has(res.status) && !d.terminated) {
        // Never silently: a watcher that cannot be reached (timeout, transport error, a NOTIFY too large for
        // any transport) loses its subscription, and the operator should see why.
        this.log.warn(
          `NOTIFY to ${sub.watcher} (${sub.event} of ${sub.presentity}) answered ${res.status} ${res.reason}: subscription ended`,
        );
        await this.subscriptions.drop(sub, `NOTIFY answered ${res.status}`);
        return true;
      }
      return false;
    } catch (e) {
      this.log.warn(`NOTIFY to ${sub.watcher} failed: ${(e as Error).message}`);
      if (!d.terminated && !this.bridge.stopping)
        await this.subscriptions.drop(sub, 'NOTIFY could not be sent').catch(() => undefined);
      return true;
    }
  }
}
