import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { hostOf } from '../../common/aor';
import { DomainError } from '../../common/domain-error';
import { timeOrderedId } from '../../common/ids';
import { CLOCK, RANDOM } from '../../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type { Clock, Random } from '../../sip';
import { EventPackageRegistry } from './event-package.registry';
import { Notifier } from './notifier.service';
import type { Delivery, InternalSubscription } from './subscription';
import { SubscriptionRegistry } from './subscription.registry';
import { SubscriptionRepository } from './subscription.repository';
import { SubscriptionService } from './subscription.service';

/** Internal watchers end with `unsubscribe` unless they ask for an expiry: ten years. */
const UNTIL_UNSUBSCRIBED_S = 10 * 365 * 24 * 3600;

/** A module's subscription to a presentity's state (the Query Status API role of the original servers). */
export interface InternalSubscribeRequest {
  /** The module subscribing; its handler ({@link InternalSubscriptions.onDelivery}) receives the state. */
  readonly owner: string;
  /** The presentity, a normalised AoR (`sip:user@host`). */
  readonly presentity: string;
  /** The event package, e.g. `presence`. */
  readonly event: string;
  /** The identity the module watches as (for a remote presentity: the SIP subscriber of the B2B dialog). */
  readonly watcher: string;
  /** Seconds; absent: until unsubscribed. */
  readonly expires?: number;
  /** Media types the module wants the body in; empty: the package's default. */
  readonly accept?: readonly string[];
  /** The subscription's id, when the module chose it (to know it before the first delivery). */
  readonly id?: string;
}

/** The handler of one owner module: every delivery to any of its internal watchers, final ones included. */
export type DeliveryHandler = (delivery: Delivery) => void;

/**
 * One typed API through which every module watches a presentity (QSA). A local presentity (its domain is in
 * `sip.domains`, or every domain is served) is answered by the presence core directly — allowed while
 * `pa.acceptInternalSubscriptions` is on; a remote one is picked up by the B2B module, which follows the
 * watchers of remote presentities. Either way the watcher is an `internal` subscription of the one notifier,
 * stored and restored like a SIP one; its deliveries reach its owner's handler.
 */
@Injectable()
export class InternalSubscriptions implements OnModuleInit {
  private readonly log = new Logger('InternalSubscriptions');
  private readonly handlers = new Map<string, DeliveryHandler>();

  constructor(
    private readonly subscriptions: SubscriptionService,
    private readonly registry: SubscriptionRegistry,
    private readonly repo: SubscriptionRepository,
    private readonly notifier: Notifier,
    private readonly packages: EventPackageRegistry,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'sip' | 'pa'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) private readonly random: Random,
  ) {}

  async onModuleInit(): Promise<void> {
    const stored = await this.repo.loadInternal();
    for (const s of stored) this.registry.add(this.withHandler(s));
    if (stored.length) this.log.log(`restored ${stored.length} internal watchers`);
  }

  /** Registers the handler of an owner's watchers (at its start: stored watchers deliver to it). */
  onDelivery(owner: string, handler: DeliveryHandler): void {
    this.handlers.set(owner, handler);
  }

  /** Whether the presentity's domain is served here (`sip.domains`; empty: every domain). */
  isLocal(presentity: string): boolean {
    const domains = this.config.sip.domains;
    return domains.length === 0 || domains.includes(hostOf(presentity).toLowerCase());
  }

  /**
   * Subscribes; resolves once the watcher is stored, after its first delivery (the current state) was
   * handed to the owner. 403 for a local presentity while internal subscriptions are off, 400 naming `event`
   * for a local presentity of a package not served here.
   */
  async subscribe(req: InternalSubscribeRequest): Promise<InternalSubscription> {
    const event = req.event.toLowerCase();
    if (this.isLocal(req.presentity)) {
      if (!this.config.pa.acceptInternalSubscriptions) {
        throw new DomainError(
          403,
          `internal subscriptions to local presentities are off (pa.acceptInternalSubscriptions)`,
        );
      }
      if (!this.packages.get(event)) {
        throw new DomainError(400, `event "${event}" is not a package this server serves`, 'event');
      }
    }
    const now = this.clock.now();
    const sub = this.withHandler({
      kind: 'internal',
      id: req.id ?? timeOrderedId(now, this.random),
      owner: req.owner,
      presentity: req.presentity,
      event,
      watcher: req.watcher,
      accept: req.accept ?? [],
      status: 'active',
      expiresAt: now + (req.expires ?? UNTIL_UNSUBSCRIBED_S) * 1000,
      createdAt: now,
    });
    await this.subscriptions.add(sub);
    await this.notifier.notifyOne(sub);
    return sub;
  }

  /** Ends an internal watcher with a final delivery; false when there is none by that id. */
  async unsubscribe(id: string): Promise<boolean> {
    const sub = this.registry.get(id);
    if (sub?.kind !== 'internal') return false;
    await this.subscriptions.end(sub, 'unsubscribed');
    return true;
  }

  /** A live internal watcher by id. */
  get(id: string): InternalSubscription | undefined {
    const sub = this.registry.get(id);
    return sub?.kind === 'internal' ? sub : undefined;
  }

  /** The live internal watchers of one owner. */
  list(owner: string): InternalSubscription[] {
    return this.registry
      .list({ kind: 'internal' })
      .filter((s): s is InternalSubscription => s.kind === 'internal' && s.owner === owner);
  }

  private withHandler(s: Omit<InternalSubscription, 'deliver'>): InternalSubscription {
    const owner = s.owner;
    return {
      ...s,
      deliver: (d) => {
        const handler = this.handlers.get(owner);
        if (handler) handler(d);
        else this.log.warn(`no handler for internal watchers of ${owner}; delivery to ${d.subscription.id} dropped`);
      },
    };
  }
}
