import { Injectable } from '@nestjs/common';
import type { SipSubscription, Subscription, WatcherKind } from './subscription';

const watchKey = (presentity: string, event: string): string => `${event}\u0000${presentity}`;
const dialogKey = (callId: string, localTag: string): string => `${callId}\u0000${localTag}`;

/** Every live subscription in memory, by id, by watched (presentity, event) and by SIP dialog. */
@Injectable()
export class SubscriptionRegistry {
  private readonly byId = new Map<string, Subscription>();
  private readonly byWatched = new Map<string, Set<Subscription>>();
  private readonly byDialog = new Map<string, SipSubscription>();

  add(s: Subscription): void {
    this.byId.set(s.id, s);
    const k = watchKey(s.presentity, s.event);
    let set = this.byWatched.get(k);
    if (!set) this.byWatched.set(k, (set = new Set()));
    set.add(s);
    if (s.kind === 'sip') this.byDialog.set(dialogKey(s.dialog.callId, s.dialog.localTag), s);
  }

  remove(s: Subscription): boolean {
    if (this.byId.get(s.id) !== s) return false;
    this.byId.delete(s.id);
    const k = watchKey(s.presentity, s.event);
    const set = this.byWatched.get(k);
    set?.delete(s);
    if (set?.size === 0) this.byWatched.delete(k);
    if (s.kind === 'sip') this.byDialog.delete(dialogKey(s.dialog.callId, s.dialog.localTag));
    return true;
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

  expired(now: number): Subscription[] {
    const out: Subscription[] = [];
    for (const s of this.byId.values()) if (s.expiresAt <= now) out.push(s);
    return out;
  }

  get size(): number {
    return this.byId.size;
  }
}
