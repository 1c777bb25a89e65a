import { Module } from '@nestjs/common';
import { PortsModule } from '../../common/ports.module';
import { LocationModule } from '../../location/location.module';
import { ContentIndirectionService } from './content-indirection.service';
import { EventPackageRegistry } from './event-package.registry';
import { InternalSubscriptions } from './internal-subscriptions.service';
import { Notifier } from './notifier.service';
import { PresenceTimer } from './presence-timer.service';
import { PublicationRepository } from './publication.repository';
import { PublicationStore } from './publication.store';
import { PublishHandler } from './publish.handler';
import { PublishService } from './publish.service';
import { SipNotifyChannel } from './sip-notify.channel';
import { SubscribeHandler } from './subscribe.handler';
import { SubscriptionRegistry } from './subscription.registry';
import { SubscriptionRepository } from './subscription.repository';
import { SubscriptionService } from './subscription.service';
import { WatcherGate } from './watcher-gate';

/**
 * The presence core every event package plugs into: package registry, publications (RFC 3903),
 * subscriptions and the one notifier (RFC 6665), SIP SUBSCRIBE/PUBLISH handling and NOTIFY delivery.
 */
@Module({
  imports: [LocationModule, PortsModule],
  providers: [
    ContentIndirectionService,
    EventPackageRegistry,
    PublicationRepository,
    PublicationStore,
    PublishService,
    PublishHandler,
    SubscriptionRegistry,
    SubscriptionRepository,
    SubscriptionService,
    InternalSubscriptions,
    Notifier,
    SipNotifyChannel,
    SubscribeHandler,
    PresenceTimer,
    WatcherGate,
  ],
  exports: [
    PortsModule,
    ContentIndirectionService,
    EventPackageRegistry,
    PublicationStore,
    PublishService,
    SubscriptionRegistry,
    SubscriptionService,
    InternalSubscriptions,
    Notifier,
    WatcherGate,
  ],
})
export class PresenceCoreModule {}
