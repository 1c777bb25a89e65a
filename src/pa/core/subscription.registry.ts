import { Injectable } from '@nestjs/common';
import { ExpiryQueue } from '../../common/expiry-queue';
import type { Flow } from '../../sip';
import type { SipSubscription, Subscription, WatcherKind } from './subscription';

const watchKey = (presentity: string, event: string): string => `${event}\u0000${presentity}`;
const dialogKey = (callId: string, localTag: string): string => `${callId}\u0000${localTag}`;

/** Every live subscription in memory, by id, by watched (presentity, event) and by SIP dialog. */
@Injectable()
export class SubscriptionRegistry {
  private readonly byId = new Map<string, Subscription>();
  private readonly byWatched = new Map<string, Set<Subscription>>();
  private readonly byDialog = new Map<string, SipSubscription>();
  private readonly expiry = new ExpiryQueue<Subscription>();
  /** Connection id → number of SIP subscriptions whose NOTIFYs go over it. */
  private readonly connectionUse = new Map<string, number>();

  add(s: Subscription): void {
    this.byId.set(s.id, s);
    this.expiry.push(s, s.expiresAt);
    const k = watchKey(s.presentity, s.event);
    let set = this.byWatched.get(k);
    if (!set) this.byWatched.set(k, (set = new Set()));
    set.add(s);
    if (s.kind === 'sip') {
      this.byDialog.set(dialogKey(s.dialog.callId, s.dialog.localTag), s);
      this.use(s.flow.connectionId, 1);
    }
  }

  remove(s: Subscription): boolean {
    if (this.byId.get(s.id) !== s) return false;
    this.byId.delete(s.id);
    const k = watchKey(s.presentity, s.event);
    const set = this.byWatched.get(k);
    set?.delete(s);
    if (set?.size === 0) this.byWatched.delete(k);
    if (s.kind === 'sip') {
      this.byDialog.delete(dialogKey(s.dialog.callId, s.dialog.localTag));
      this.use(s.flow.connectionId, -1);
    }
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
    return this.byDialog.get(dialogKey(callId, localTag));
  }

  watchers(presentity: string, event: string): ReadonlySet<Subscription> {
    return this.byWatched.get(watchKey(presentity, event)) ?? new Set();
  }

  /** Presentities with watchers of `event`. */
  watched(event: string): string[] {
    const out: string[] = [];
    for (const set of this.byWatched.values()) {
      const first = set.values().next().value;
      if (first?.event === event) out.push(first.presentity);
    }
    return out;
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
