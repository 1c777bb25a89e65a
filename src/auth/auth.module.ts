import { Module } from '@nestjs/common';
import { PortsModule } from '../common/ports.module';
import { SipDigestService } from './sip-digest.service';
import { SubscriberRepository } from './subscriber.repository';
import { SubscriberService } from './subscriber.service';
import { SubscribersController } from './subscribers.controller';

/**
 * Authentication: digest users (`/api/subscribers`, HA1s only) and SIP digest in front of the bridge's
 * handlers when auth.enabled. Feature modules read the result as `IncomingRequest.identity`.
 */
@Module({
  imports: [PortsModule],
  controllers: [SubscribersController],
  providers: [SubscriberRepository, SubscriberService, SipDigestService],
  exports: [SubscriberService, SipDigestService],
})
export class AuthModule {}
