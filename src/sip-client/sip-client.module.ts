import { Module } from '@nestjs/common';
import { PortsModule } from '../common/ports.module';
import { SipClientRepository } from './sip-client.repository';
import { SipClientService } from './sip-client.service';

/** The outgoing SIP client (the `pua` role), shared by PuaReginfoModule and B2bModule. */
@Module({
  imports: [PortsModule],
  providers: [SipClientRepository, SipClientService],
  exports: [SipClientService],
})
export class SipClientModule {}
