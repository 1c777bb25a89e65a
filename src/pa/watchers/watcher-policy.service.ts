import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DomainError } from '../../common/domain-error';
import { checkLength } from '../../common/field-limits';
import { CLOCK } from '../../common/ports.module';
import { APP_CONFIG, type AppConfig, type WatcherDefaultPolicy } from '../../config/app-config';
import type { Clock } from '../../sip';
import { Notifier } from '../core/notifier.service';
import type { Subscription } from '../core/subscription';
import { SubscriptionRegistry } from '../core/subscription.registry';
import { SubscriptionService } from '../core/subscription.service';
import { WatcherGate, type WatcherAuthorization, type WatcherVerdict } from '../core/watcher-gate';
import { WatcherRuleRepository, type WatcherPolicy, type WatcherRule } from './watcher-rule.repository';
import { WINFO_EVENT, type WatcherList, type WinfoWatcher } from './winfo.package';

/** The event package whose watchers this policy governs; `reg` and `ua-profile` keep their own rules. */
export const GOVERNED_EVENT = 'presence';

/**
 * Waiting watchers recorded per presentity. Anyone may SUBSCRIBE with any From: beyond this many the newcomer is
 * left pending without being recorded (the table must not grow at a stranger's pace); a rule set for it by name
 * still decides it.
 */
export const MAX_PENDING_PER_PRESENTITY = 100;

/** The watcher name of a presentity's rule for every watcher without a rule of its own. */
export const ANY_WATCHER = '*';

const VERDICT: Record<WatcherPolicy, WatcherVerdict> = {
  allow: 'active',
  deny: 'rejected',
  'polite-block': 'polite-block',
  pending: 'pending',
};

/** `user@host` of a URI, lower-cased host: `sip:alice@example.com` → `example.com`. */
function domainOf(uri: string): string | undefined {
  const at = uri.lastIndexOf('@');
  return at === -1 ? undefined : uri.slice(at + 1).toLowerCase();
}

/**
 * Watcher authorization for `presence` (RFC 6665 §4.1.3, RFC 3856 §6.6.2, with RFC 3857's pending watchers as
 * the model): each presentity's rules — per watcher, or `*` for every other watcher — else
 * `watchers.defaultPolicy`. A watcher whose decision is pending is recorded as a `pending` rule, which the
 * presentity lists and approves or denies over REST; a decision is applied at once to the live subscriptions
 * of that watcher through the one notifier (NOTIFY active with the state, or terminated;reason=rejected).
 *
 * Rules are read from the database at start and kept in memory (they are few per presentity); every change is
 * committed before it is applied. This is the {@link WatcherAuthorization} every admission (SIP, WebSocket)
 * calls through {@link WatcherGate}.
 */
@Injectable()
export class WatcherPolicyService implements WatcherAuthorization, OnModuleInit {
  private readonly log = new Logger('WatcherPolicy');
  /** presentity → watcher (or `*`) → rule. */
  private readonly rules = new Map<string, Map<string, WatcherRule>>();
  private readonly defaultPolicy: WatcherDefaultPolicy;

  constructor(
    private readonly repo: WatcherRuleRepository,
    private readonly gate: WatcherGate,
    private readonly registry: SubscriptionRegistry,
    private readonly subscriptions: SubscriptionService,
    private readonly notifier: Notifier,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.defaultPolicy = config.watchers.defaultPolicy;
  }

  async onModuleInit(): Promise<void> {
    for (const rule of await this.repo.all()) this.remember(rule);
    this.gate.use(this);
  }

  async authorize(watcher: string, presentity: string, event: string): Promise<WatcherVerdict> {
    if (event !== GOVERNED_EVENT) return 'active';
    const policy = this.effectivePolicy(watcher, presentity);
    // A watcher left waiting is recorded, so that the presentity sees it among its pending watchers.
    if (policy === 'pending' && this.rules.get(presentity)?.get(watcher) === undefined) {
      checkLength('watcher', watcher);
      if (this.list(presentity, 'pending').length < MAX_PENDING_PER_PRESENTITY) {
        await this.store({ presentity, watcher, policy: 'pending', updatedAt: this.clock.now() });
      } else {
        this.log.debug(`${presentity} has ${MAX_PENDING_PER_PRESENTITY} waiting watchers: ${watcher} is not recorded`);
      }
    }
    return VERDICT[policy];
  }

  isPoliteBlocked(watcher: string, presentity: string, event: string): boolean {
    return event === GOVERNED_EVENT && this.effectivePolicy(watcher, presentity) === 'polite-block';
  }

  /** The presentity's rules, its `*` rule included, optionally only those of one policy; by watcher. */
  list(presentity: string, policy?: WatcherPolicy): WatcherRule[] {
    const all = [...(this.rules.get(presentity)?.values() ?? [])];
    return all
      .filter((r) => policy === undefined || r.policy === policy)
      .sort((a, b) => a.watcher.localeCompare(b.watcher));
  }

  /**
   * Sets the presentity's rule for `watcher` (or `*`), commits it, then applies it to the live subscriptions
   * it now decides: a pending one becomes active (NOTIFY active with the state, or the neutral state when
   * polite-blocked), a denied one ends (NOTIFY terminated;reason=rejected), an active one whose rendering
   * changes (polite-block set or lifted) is notified again.
   */
  async setRule(presentity: string, watcher: string, policy: WatcherPolicy): Promise<WatcherRule> {
    if (watcher === presentity) {
      throw new DomainError(400, 'a presentity may always watch itself: no rule for its own AoR', 'watcher');
    }
    const rule: WatcherRule = { presentity, watcher, policy, updatedAt: this.clock.now() };
    await this.store(rule);
    await this.apply(presentity, watcher);
    // Watcher information shows the statuses the rule changed.
    this.notifier.changed(presentity, WINFO_EVENT);
    return rule;
  }

  /** Removes a rule; the watchers it decided fall back to the `*` rule or the default policy. */
  async removeRule(presentity: string, watcher: string): Promise<void> {
    if (this.rules.get(presentity)?.get(watcher) === undefined) {
      throw new DomainError(404, `${presentity} has no rule for ${watcher}`, 'watcher');
    }
    await this.repo.remove(presentity, watcher);
    this.forget(presentity, watcher);
    await this.apply(presentity, watcher);
  }

  /**
   * The watchers of a presentity's presence for watcher information (RFC 3858): each live subscription as
   * `pending` or `active`, and each watcher waiting for a decision whose subscription is gone as `waiting`.
   */
  watcherList(presentity: string): WatcherList {
    const now = this.clock.now();
    const live = this.registry.watchers(presentity, GOVERNED_EVENT).filter((s) => s.status !== 'terminated');
    const out: WinfoWatcher[] = live.map((s) => ({
      id: s.id,
      uri: s.watcher,
      status: s.status === 'pending' ? 'pending' : 'active',
      event:
        s.status === 'active' && this.rules.get(presentity)?.get(s.watcher)?.policy === 'allow'
          ? 'approved'
          : 'subscribe',
      durationSubscribed: Math.max(0, Math.floor((now - s.createdAt) / 1000)),
    }));
    const present = new Set(live.map((s) => s.watcher));
    for (const rule of this.list(presentity, 'pending')) {
      if (!present.has(rule.watcher)) {
        out.push({ id: `waiting:${rule.watcher}`, uri: rule.watcher, status: 'waiting', event: 'subscribe' });
      }
    }
    return out;
  }

  /** The policy that decides `watcher` now: its own rule, the presentity's `*` rule, the default. */
  private effectivePolicy(watcher: string, presentity: string): WatcherPolicy {
    if (watcher === presentity) return 'allow';
    const byWatcher = this.rules.get(presentity);
    const own = byWatcher?.get(watcher) ?? byWatcher?.get(ANY_WATCHER);
    if (own !== undefined) return own.policy;
    switch (this.defaultPolicy) {
      case 'allow':
      case 'deny':
      case 'polite-block':
      case 'pending':
        return this.defaultPolicy;
      case 'same-domain':
        return domainOf(watcher) !== undefined && domainOf(watcher) === domainOf(presentity) ? 'allow' : 'pending';
    }
  }

  /** Brings the live subscriptions `watcher` (or, for `*`, any watcher) holds on `presentity` in line. */
  private async apply(presentity: string, watcher: string): Promise<void> {
    const affected = this.registry
      .watchers(presentity, GOVERNED_EVENT)
      .filter((s) => watcher === ANY_WATCHER || s.watcher === watcher);
    for (const sub of affected) {
      try {
        await this.applyTo(sub);
      } catch (e) {
        this.log.error(`applying the watcher rule to subscription ${sub.id} failed: ${(e as Error).message}`);
      }
    }
  }

  private async applyTo(sub: Subscription): Promise<void> {
    if (sub.status === 'terminated') return;
    switch (VERDICT[this.effectivePolicy(sub.watcher, sub.presentity)]) {
      case 'rejected':
        await this.subscriptions.end(sub, 'rejected');
        return;
      case 'pending':
        // RFC 6665 has no way back from active to pending: an active watcher stays until it is denied.
        return;
      case 'active':
      case 'polite-block':
        if (sub.status === 'pending') {
          sub.status = 'active';
          if (sub.kind === 'sip') await this.subscriptions.refresh(sub);
        }
        await this.notifier.notifyOne(sub);
        return;
    }
  }

  private async store(rule: WatcherRule): Promise<void> {
    await this.repo.save(rule);
    this.remember(rule);
  }

  private remember(rule: WatcherRule): void {
    this.notifier.changed(rule.presentity, WINFO_EVENT);
    let byWatcher = this.rules.get(rule.presentity);
    if (byWatcher === undefined) this.rules.set(rule.presentity, (byWatcher = new Map<string, WatcherRule>()));
    byWatcher.set(rule.watcher, rule);
  }

  private forget(presentity: string, watcher: string): void {
    this.notifier.changed(presentity, WINFO_EVENT);
    const byWatcher = this.rules.get(presentity);
    byWatcher?.delete(watcher);
    if (byWatcher?.size === 0) this.rules.delete(presentity);
  }
}
