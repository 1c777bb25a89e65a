import { Inject, Injectable, Logger } from '@nestjs/common';
import { CLOCK } from '../../common/ports.module';
import type { Clock } from '../../sip';
import type { SipSubscription, Subscription, TerminationReason } from './subscription';
import { SubscriptionRegistry } from './subscription.registry';
import { SubscriptionRepository } from './subscription.repository';
import { Notifier } from './notifier.service';

/**
 * The life of subscriptions of every kind: stored (SIP) before they are acknowledged, refreshed, ended
 * with a final delivery, or dropped silently when the watcher is gone (481, timeout, closed socket).
 */
@Injectable()
export class SubscriptionService {
  private readonly log = new Logger('Subscriptions');

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly repo: SubscriptionRepository,
    private readonly notifier: Notifier,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Adds a subscription; SIP and internal ones are committed first. The caller answers, then calls `notifyOne`. */
  async add(sub: Subscription): Promise<void> {
    if (sub.kind === 'sip') await this.repo.save(sub);
    else if (sub.kind === 'internal') await this.repo.saveInternal(sub);
    this.registry.add(sub);
  }

  /** Commits a refreshed SIP subscription (new expiry, remote CSeq, flow). */
  async refresh(sub: SipSubscription): Promise<void> {
    await this.repo.save(sub);
  }

  /** Ends a subscription with a final NOTIFY / `state` (RFC 6665 §4.2.2), then forgets it. */
  async end(sub: Subscription, reason: TerminationReason | 'unsubscribed'): Promise<void> {
    if (!this.registry.remove(sub)) return;
    try {
      if (sub.kind !== 'ws') await this.repo.remove(sub.id);
    } finally {
      await this.notifier.terminate(sub, reason);
    }
  }

  /** Forgets a subscription whose watcher is gone, without a final delivery. */
  async drop(sub: Subscription, why: string): Promise<void> {
    if (!this.registry.remove(sub)) return;
    this.log.debug(`subscription ${sub.id} of ${sub.watcher} to ${sub.presentity} dropped: ${why}`);
    if (sub.kind !== 'ws') await this.repo.remove(sub.id);
  }

  /** Ends every subscription whose expiry has passed with NOTIFY terminated;reason=timeout. */
  async expire(now = this.clock.now()): Promise<number> {
    const gone = this.registry.expired(now);
    for (const sub of gone) {
      try {
        await this.end(sub, 'timeout');
      } catch (e) {
        this.log.error(`expiring subscription ${sub.id} failed: ${(e as Error).message}`);
      }
    }
    return gone.length;
  }

  /** Loads the stored SIP subscriptions into memory (start, or after a restart). */
  async restore(): Promise<number> {
    return this.repo.eachSip((s) => {
      this.registry.add(s);
    });
  }
}
