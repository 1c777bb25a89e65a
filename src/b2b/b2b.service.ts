import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { CLOCK, RANDOM } from '../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { mediaType } from '../pa/core/accept';
import { PackageError } from '../pa/core/event-package';
import { EventPackageRegistry } from '../pa/core/event-package.registry';
import { InternalSubscriptions } from '../pa/core/internal-subscriptions.service';
import type { Publication } from '../pa/core/publication';
import { PublicationStore } from '../pa/core/publication.store';
import { PublishService } from '../pa/core/publish.service';
import type { Subscription, TerminationReason } from '../pa/core/subscription';
import { SubscriptionRegistry } from '../pa/core/subscription.registry';
import { SubscriptionService } from '../pa/core/subscription.service';
import type { Clock, Random } from '../sip';
import { SipBridge } from '../sip-bridge/sip-bridge.service';
import { B2B_REMOTE, type B2bRemote, type RemoteNotify, type RemoteRecord } from './b2b-remote';
import { B2bScheduler } from './b2b-scheduler';
import { createPassThroughPackage } from './pass-through.package';

/** The owner name of B2B's internal watchers and outgoing subscriptions. */
export const B2B_OWNER = 'b2b';

/**
 * Most event packages B2B adds as pass-through: each new event name given over REST registers one, so the
 * registry would otherwise grow with every name a caller makes up.
 */
export const MAX_PASS_THROUGH_PACKAGES = 32;

/** Seconds a publication of remote state outlives the expiry the remote gave, so a late refresh finds it. */
const STATE_MARGIN_S = 60;

const TERMINATION_REASONS: readonly string[] = [
  'timeout',
  'deactivated',
  'noresource',
  'rejected',
  'giveup',
  'probation',
];

/** One SIP subscription at a remote server and the local watchers it serves. */
export interface RemoteSubscription {
  readonly key: string;
  readonly presentity: string;
  readonly event: string;
  /** The watcher identity: From of the SUBSCRIBEs. */
  readonly watcher: string;
  /** Ids of the local watchers (internal, browser, SIP) it serves. */
  readonly subscribers: Set<string>;
  /** Expires asked for in its SUBSCRIBEs. */
  readonly expires: number;
  /** Its SUBSCRIBE was sent or scheduled (or the client already holds it from before a restart). */
  started: boolean;
}

/**
 * The back-to-back presence UA (`presence_b2b`): every watcher of a presentity whose domain is not served
 * here — a browser's `subscribe`, a REST B2B subscription, a module's internal watcher — is served by a SIP
 * subscription to the remote presentity, held through the shared outgoing client and routed via
 * `b2b.presenceRoute`. One remote subscription per (presentity, event, watcher identity) serves every local
 * watcher with that identity, unless `b2b.shareSubscriptions` is off. Each NOTIFY's document becomes the
 * presentity's publication (source `b2b:<key>`) in the presence core, whose one notifier hands it to every
 * local watcher as its package renders it (PIDF to JSON for browsers); a package no module knows is passed
 * through. When the last watcher leaves, SUBSCRIBE Expires 0 ends the remote subscription.
 */
@Injectable()
export class B2bService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('B2b');
  private readonly remotes = new Map<string, RemoteSubscription>();
  private readonly bySubscriber = new Map<string, RemoteSubscription>();
  /** Expires asked for by a REST caller, by the id of its watcher (until its remote subscription exists). */
  private readonly requested = new Map<string, number>();
  /** Pass-through packages added so far. */
  private passThrough = 0;
  private readonly scheduler: B2bScheduler;
  private bootstrapped = false;
  /** Shutting down: watchers that go now (sockets closing) leave their remote subscriptions to the next start. */
  private closing = false;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly subscriptions: SubscriptionService,
    private readonly internal: InternalSubscriptions,
    private readonly publisher: PublishService,
    private readonly store: PublicationStore,
    private readonly packages: EventPackageRegistry,
    private readonly bridge: SipBridge,
    @Inject(B2B_REMOTE) private readonly remote: B2bRemote,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'sip' | 'pa' | 'b2b'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) random: Random,
  ) {
    this.scheduler = new B2bScheduler(config.b2b, clock, random);
  }

  onModuleInit(): void {
    if (this.config.b2b.presenceProxy) this.bridge.serveOtherDomains('SUBSCRIBE');
    // B2B's own watchers (REST) are read through get(); the remote state reaches them like any watcher.
    this.internal.onDelivery(B2B_OWNER, () => undefined);
    this.registry.onWatcher((sub, change) => {
      if (change === 'added') this.attach(sub);
      else this.detach(sub);
    });
    this.remote.onNotify(B2B_OWNER, (n) => this.notified(n));
    this.remote.onStatus(B2B_OWNER, (r) => {
      this.statusChanged(r);
    });
  }

  /**
   * After every stored watcher is back: each remote subscription with watchers is resumed (the client
   * refreshes what it held, or re-creates it after a 481); one whose watchers are gone (browser sockets do
   * not survive a restart) is ended.
   */
  onApplicationBootstrap(): void {
    for (const sub of this.registry.list()) this.attach(sub);
    this.bootstrapped = true;
    for (const r of this.remote.list(B2B_OWNER)) {
      if (!this.remotes.has(r.key)) void this.endRemote(r.key, r.uri, r.event);
    }
    for (const remote of this.remotes.values()) this.start(remote);
  }

  onModuleDestroy(): void {
    this.closing = true;
    this.scheduler.stop();
  }

  /** The SIP identity of subscriptions made for watchers that have none (browsers without a sip: user). */
  get defaultWatcher(): string {
    if (this.config.b2b.watcherIdentity) return this.config.b2b.watcherIdentity;
    const sip = this.config.sip;
    const host = sip.domains[0] ?? (sip.advertisedHost || (sip.host === '0.0.0.0' ? '127.0.0.1' : sip.host));
    return `sip:presence-hub@${host}`;
  }

  /** The remote subscription serving a local watcher. */
  remoteOf(subscriptionId: string): RemoteSubscription | undefined {
    return this.bySubscriber.get(subscriptionId);
  }

  /** Where the remote subscription stands at the outgoing client. */
  record(remote: RemoteSubscription): RemoteRecord | undefined {
    return this.remote.get(B2B_OWNER, remote.key);
  }

  /** The remote state last received for a remote subscription (its publication in the core). */
  lastState(remote: RemoteSubscription): Publication | undefined {
    const source = sourceOf(remote.key);
    return this.store.find(remote.presentity, remote.event).find((p) => p.source === source);
  }

  /** Number of remote subscriptions held. */
  get size(): number {
    return this.remotes.size;
  }

  /** Records the Expires a REST caller asked for, before its watcher is added (see {@link attach}). */
  expect(subscriptionId: string, expires: number): void {
    this.requested.set(subscriptionId, expires);
  }

  /** Forgets what {@link expect} recorded, once the watcher was added or could not be. */
  settled(subscriptionId: string): void {
    this.requested.delete(subscriptionId);
  }

  /**
   * Makes sure a package no module here knows is served as pass-through (remote documents as they come);
   * with `limit`, a new one past {@link MAX_PASS_THROUGH_PACKAGES} is refused (400 naming `event`). Stored
   * subscriptions restored at start add theirs without the limit.
   */
  ensurePackage(event: string, limit = false): void {
    if (this.packages.get(event)) return;
    if (limit && this.passThrough >= MAX_PASS_THROUGH_PACKAGES) {
      throw new DomainError(
        400,
        `event "${event}" would be a new pass-through package past the ${MAX_PASS_THROUGH_PACKAGES} allowed; use one of those in use`,
        'event',
      );
    }
    this.passThrough++;
    const pa = this.config.pa;
    this.packages.add(
      createPassThroughPackage(event.toLowerCase(), {
        default: pa.defaultExpires,
        min: pa.minExpires,
        max: pa.maxExpires,
      }),
    );
  }

  /** A watcher was added: one of a remote presentity is served by a remote subscription. */
  private attach(sub: Subscription): void {
    if (this.bySubscriber.has(sub.id) || this.internal.isLocal(sub.presentity)) return;
    const watcher = sub.kind === 'internal' || /^sips?:/i.test(sub.watcher) ? sub.watcher : this.defaultWatcher;
    const share = this.config.b2b.shareSubscriptions;
    const key = keyOf(sub.event, sub.presentity, watcher, share ? undefined : sub.id);
    let remote = this.remotes.get(key);
    if (!remote) {
      this.ensurePackage(sub.event);
      remote = {
        key,
        presentity: sub.presentity,
        event: sub.event,
        watcher,
        subscribers: new Set(),
        expires: this.requested.get(sub.id) ?? this.config.b2b.defaultExpiration,
        started: false,
      };
      this.remotes.set(key, remote);
    }
    this.requested.delete(sub.id);
    remote.subscribers.add(sub.id);
    this.bySubscriber.set(sub.id, remote);
    if (this.bootstrapped) this.start(remote);
  }

  /** A watcher left: the last one of a remote subscription ends it. */
  private detach(sub: Subscription): void {
    const remote = this.bySubscriber.get(sub.id);
    if (!remote) return;
    this.bySubscriber.delete(sub.id);
    remote.subscribers.delete(sub.id);
    if (remote.subscribers.size > 0) return;
    this.remotes.delete(remote.key);
    // A SUBSCRIBE still waiting its turn (b2b.maxSubscribeDelay) is simply not sent.
    const waiting = this.scheduler.dueAt(remote.key) !== undefined;
    this.scheduler.cancel(remote.key);
    // At shutdown the next start ends it (it has no watcher then) rather than racing the database's close.
    if (remote.started && !waiting && !this.closing) void this.endRemote(remote.key, remote.presentity, remote.event);
  }

  /** Sends the initial SUBSCRIBE (spread over b2b.maxSubscribeDelay), unless the client already holds it. */
  private start(remote: RemoteSubscription): void {
    if (remote.started) return;
    remote.started = true;
    if (this.remote.get(B2B_OWNER, remote.key)) return;
    this.scheduler.schedule(remote.key, this.scheduler.initialAt(), () => {
      void this.subscribeRemote(remote);
    });
  }

  private async subscribeRemote(remote: RemoteSubscription): Promise<void> {
    const b2b = this.config.b2b;
    try {
      await this.remote.subscribe({
        owner: B2B_OWNER,
        key: remote.key,
        uri: remote.presentity,
        from: remote.watcher,
        event: remote.event,
        expires: remote.expires,
        ...(b2b.presenceRoute !== '' && { route: b2b.presenceRoute }),
        options: {
          refreshBefore: b2b.resubscribeDelta,
          minRefreshInterval: b2b.minResubscribeTime,
          retryAfter: Math.max(1, b2b.onErrorRetryTime), // 0 would try again at once, forever
          waitForTermNotify: b2b.waitForTermNotify,
          // After a restart the client resumes them spread like initial ones.
          resumeSpread: b2b.maxSubscribeDelay,
        },
      });
    } catch (e) {
      this.log.error(`subscribing to ${remote.presentity} (${remote.event}) failed: ${(e as Error).message}`);
    }
  }

  /** SUBSCRIBE Expires 0 (the client waits for the terminating NOTIFY), and the remote state is withdrawn. */
  private async endRemote(key: string, presentity: string, event: string): Promise<void> {
    try {
      await this.remote.unsubscribe(B2B_OWNER, key);
      await this.withdraw(key, presentity, event);
    } catch (e) {
      this.log.warn(`ending the subscription to ${presentity} (${event}) failed: ${(e as Error).message}`);
    }
  }

  /**
   * handle_notify: a NOTIFY's document becomes the presentity's remote state; `terminated` withdraws it
   * (whether and when to subscribe again is the client's part, RFC 6665 §4.1.3). A document the package
   * refuses answers the NOTIFY with the package's status.
   */
  private async notified(n: RemoteNotify): Promise<void> {
    const remote = this.remotes.get(n.record.key);
    if (!remote) return; // being ended: the terminating NOTIFY is taken and forgotten
    const ss = n.subscriptionState;
    if (n.body !== '' && n.contentType !== undefined) {
      await this.publishState(remote, mediaType(n.contentType), n.body, ss.expires ?? remote.expires);
    }
    if (ss.state === 'terminated') await this.withdraw(remote.key, remote.presentity, remote.event);
  }

  private async publishState(remote: RemoteSubscription, contentType: string, body: string, expires: number) {
    const rules = this.packages.get(remote.event)?.publish;
    if (!rules) {
      throw new PackageError(489, `Bad Event (${remote.event} documents cannot be kept here)`);
    }
    const granted = Math.max(rules.expires.min, Math.min(rules.expires.max, expires + STATE_MARGIN_S));
    const request = {
      presentity: remote.presentity,
      event: remote.event,
      contentType,
      body,
      expires: granted,
      source: sourceOf(remote.key),
    };
    const mine = this.lastState(remote);
    try {
      await this.publisher.publish({ ...request, ...(mine && { ifMatch: mine.etag }) });
    } catch (e) {
      if (!(mine && e instanceof PackageError && e.status === 412)) throw e;
      await this.publisher.publish(request);
    }
  }

  /** Removes the remote state a remote subscription put into the core. */
  private async withdraw(key: string, presentity: string, event: string): Promise<void> {
    const source = sourceOf(key);
    const mine = this.store.find(presentity, event).find((p) => p.source === source);
    if (!mine) return;
    try {
      await this.publisher.publish({ presentity, event, ifMatch: mine.etag, expires: 0, source });
    } catch (e) {
      if (!(e instanceof PackageError && e.status === 412)) throw e;
    }
  }

  /**
   * A refreshed remote subscription keeps its state in the core at least as long as itself, in case the
   * remote grants more than a publication may last and sends nothing new before the next refresh.
   */
  private keepState(remote: RemoteSubscription, until: number): void {
    const mine = this.lastState(remote);
    const rules = this.packages.get(remote.event)?.publish;
    if (!mine || !rules || until <= 0 || mine.expiresAt >= until) return;
    const seconds = Math.ceil((until - this.clock.now()) / 1000) + STATE_MARGIN_S;
    const expires = Math.max(rules.expires.min, Math.min(rules.expires.max, seconds));
    const request = { presentity: remote.presentity, event: remote.event, expires, source: sourceOf(remote.key) };
    this.publisher.publish({ ...request, ifMatch: mine.etag }).catch((e: unknown) => {
      this.log.warn(`keeping the state of ${remote.presentity} (${remote.event}) failed: ${(e as Error).message}`);
    });
  }

  /**
   * A remote subscription ended for good (rejected, noresource, ...): browser and SIP watchers it served are
   * told (`terminated` with the reason); B2B's own REST watchers stay, showing the state, until deleted.
   */
  private statusChanged(r: RemoteRecord): void {
    const remote = this.remotes.get(r.key);
    if (!remote) return;
    if (r.state === 'active') {
      this.keepState(remote, r.expiresAt);
      return;
    }
    if (r.state !== 'terminated') return;
    const reason = (TERMINATION_REASONS.find((t) => r.lastReason.toLowerCase().includes(t)) ??
      'noresource') as TerminationReason;
    for (const id of [...remote.subscribers]) {
      const sub = this.registry.get(id);
      if (!sub || (sub.kind === 'internal' && sub.owner === B2B_OWNER)) continue;
      void this.subscriptions.end(sub, reason).catch((e: unknown) => {
        this.log.warn(`ending watcher ${id} of ${remote.presentity} failed: ${(e as Error).message}`);
      });
    }
  }
}

/** The key of a remote subscription: short and fixed-length, whatever the length of the URIs. */
function keyOf(event: string, presentity: string, watcher: string, subscriber?: string): string {
  const h = createHash('sha256').update(`${event}\u0000${presentity}\u0000${watcher}\u0000${subscriber ?? ''}`);
  return h.digest('base64url').slice(0, 32);
}

/** The publication source of a remote subscription's state. */
function sourceOf(key: string): string {
  return `b2b:${key}`;
}
