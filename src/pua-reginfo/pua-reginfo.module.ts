import { Module } from '@nestjs/common';
import { LocationModule } from '../location/location.module';
import { PaModule } from '../pa/pa.module';
import { SipClientModule } from '../sip-client/sip-client.module';
import { ReginfoController } from './reginfo.controller';
import { ReginfoPublisher } from './reginfo-publisher.service';
import { ReginfoSubscriptions } from './reginfo-subscriptions.service';

/**
 * `pua_reginfo`: reginfo PUBLISHed to another server when users register here, reginfo subscribed to at
 * other servers and applied to the local location service, through the shared outgoing SIP client.
 */
@Module({
  imports: [PaModule, LocationModule, SipClientModule],
  controllers: [ReginfoController],
  providers: [ReginfoPublisher, ReginfoSubscriptions],
})
export class PuaReginfoModule {}
