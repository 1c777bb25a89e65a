import { Injectable } from '@nestjs/common';
import { ExpiryQueue } from '../../common/expiry-queue';
import type { Flow } from '../../sip';
import type { SipSubscription, Subscription, WatcherKind } from './subscription';

const dialogKey = (callId: string, localTag: string): string => `${callId}\u0000${localTag}`;

/** Told when a subscription enters or leaves the registry (B2B follows watchers of remote presentities). */
export type WatcherListener = (sub: Subscription, change: 'added' | 'removed') => void;

/** The watchers of one (event, presentity): the subscription itself while it is the only one, else a Set. */
type Watchers = Subscription | Set<Subscription>;

/**
 * Every live subscription in memory, by id, by watched (event, presentity) and by SIP dialog. The indexes
 * hold no key strings of their own: they are keyed by strings the subscriptions already hold (id, event,
 * presentity, our dialog tag), and a presentity with one watcher (most of them) has no Set.
 */
@Injectable()
export class SubscriptionRegistry {
  private readonly byId = new Map<string, Subscription>();
  /** event → presentity → watchers. */
  private readonly byWatched = new Map<string, Map<string, Watchers>>();
  /** Our tag of the dialog (we chose it, so it is unique but for a chance collision) → subscription. */
  private readonly byDialog = new Map<string, SipSubscription>();
  /** Dialogs whose tag another dialog already had, by Call-ID and tag. */
  private readonly byDialogCollided = new Map<string, SipSubscription>();
  private readonly expiry = new ExpiryQueue<Subscription>();
  /** Connection id → number of SIP subscriptions whose NOTIFYs go over it. */
  private readonly connectionUse = new Map<string, number>();
  private readonly listeners: WatcherListener[] = [];

  /** Calls `listener` after each subscription added and removed from now on. */
  onWatcher(listener: WatcherListener): void {
    this.listeners.push(listener);
  }

  private tell(s: Subscription, change: 'added' | 'removed'): void {
    for (const listener of this.listeners) listener(s, change);
  }

  add(s: Subscription): void {
    const known = this.byId.get(s.id) === s;
    this.byId.set(s.id, s);
    this.expiry.push(s, s.expiresAt);
    let ofEvent = this.byWatched.get(s.event);
    if (!ofEvent) this.byWatched.set(s.event, (ofEvent = new Map<string, Watchers>()));
    const watchers = ofEvent.get(s.presentity);
    if (watchers === undefined) ofEvent.set(s.presentity, s);
    else if (watchers instanceof Set) watchers.add(s);
    else if (watchers !== s) ofEvent.set(s.presentity, new Set([watchers, s]));
    if (s.kind === 'sip') {
      const { callId, localTag } = s.dialog;
      const holder = this.byDialog.get(localTag);
      if (holder === undefined || holder.dialog.callId === callId) this.byDialog.set(localTag, s);
      else this.byDialogCollided.set(dialogKey(callId, localTag), s);
      if (!known) this.use(s.flow.connectionId, 1);
    }
    if (!known && this.listeners.length > 0) this.tell(s, 'added');
  }

  remove(s: Subscription): boolean {
    if (this.byId.get(s.id) !== s) return false;
    this.byId.delete(s.id);
    const ofEvent = this.byWatched.get(s.event);
    const watchers = ofEvent?.get(s.presentity);
    if (watchers === s) ofEvent!.delete(s.presentity);
    else if (watchers instanceof Set) {
      watchers.delete(s);
      if (watchers.size === 1) ofEvent!.set(s.presentity, watchers.values().next().value!);
    }
    if (ofEvent?.size === 0) this.byWatched.delete(s.event);
    if (s.kind === 'sip') {
      const { callId, localTag } = s.dialog;
      if (this.byDialog.get(localTag) === s) this.byDialog.delete(localTag);
      else this.byDialogCollided.delete(dialogKey(callId, localTag));
      this.use(s.flow.connectionId, -1);
    }
    if (this.listeners.length > 0) this.tell(s, 'removed');
    return true;
  }

  /** Moves a SIP subscription to the flow its refresh came on. */
  setFlow(s: SipSubscription, flow: Flow): void {
    const live = this.byId.get(s.id) === s;
    if (live) this.use(s.flow.connectionId, -1);
    s.flow = flow;
    if (live) this.use(flow.connectionId, 1);
  }

  /** Whether a subscription's NOTIFYs go over this connection. */
  usesConnection(connectionId: string): boolean {
    return this.connectionUse.has(connectionId);
  }

  private use(connectionId: string | undefined, delta: number): void {
    if (connectionId === undefined) return;
    const n = (this.connectionUse.get(connectionId) ?? 0) + delta;
    if (n > 0) this.connectionUse.set(connectionId, n);
    else this.connectionUse.delete(connectionId);
  }

  get(id: string): Subscription | undefined {
    return this.byId.get(id);
  }

  /** The subscription of a SIP dialog, by Call-ID and our tag (RFC 6665 §4.2.1.2). */
  byDialogId(callId: string, localTag: string): SipSubscription | undefined {
    const s = this.byDialog.get(localTag);
    if (s?.dialog.callId === callId) return s;
    return this.byDialogCollided.size === 0 ? undefined : this.byDialogCollided.get(dialogKey(callId, localTag));
  }

  /** The watchers of a presentity for an event, in a new array. */
  watchers(presentity: string, event: string): Subscription[] {
    const watchers = this.byWatched.get(event)?.get(presentity);
    if (watchers === undefined) return [];
    return watchers instanceof Set ? [...watchers] : [watchers];
  }

  /**
   * The string this registry already holds for `presentity` when it has watchers of `event`: a new watcher's
   * subscription shares it with the others (thousands may watch one presentity).
   */
  held(presentity: string, event: string): string | undefined {
    const watchers = this.byWatched.get(event)?.get(presentity);
    if (watchers === undefined) return undefined;
    return (watchers instanceof Set ? watchers.values().next().value! : watchers).presentity;
  }

  /** Whether a presentity has watchers of an event. */
  hasWatchers(presentity: string, event: string): boolean {
    return this.byWatched.get(event)?.has(presentity) === true;
  }

  /** Presentities with watchers of `event`. */
  watched(event: string): string[] {
    return [...(this.byWatched.get(event)?.keys() ?? [])];
  }

  list(filter: { presentity?: string; event?: string; kind?: WatcherKind } = {}): Subscription[] {
    const out: Subscription[] = [];
    for (const s of this.byId.values()) {
      if (filter.presentity && s.presentity !== filter.presentity) continue;
      if (filter.event && s.event !== filter.event) continue;
      if (filter.kind && s.kind !== filter.kind) continue;
      out.push(s);
    }
    return out;
  }

  /** Sets a subscription's expiry (a refresh); one that comes earlier than before is queued again. */
  setExpiry(s: Subscription, expiresAt: number): void {
    const earlier = expiresAt < s.expiresAt;
    s.expiresAt = expiresAt;
    if (earlier && this.byId.get(s.id) === s) this.expiry.push(s, expiresAt);
  }

  /** Subscriptions whose expiry has passed, from a queue in expiry order (no pass over all of them). */
  expired(now: number): Subscription[] {
    return this.expiry.expired(now, (s) => (this.byId.get(s.id) === s ? s.expiresAt : undefined), this.byId.size);
  }

  get size(): number {
    return this.byId.size;
  }
}
