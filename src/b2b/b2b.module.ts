import { Module } from '@nestjs/common';
import { PaModule } from '../pa/pa.module';
import { SipClientModule } from '../sip-client/sip-client.module';
import { SipClientService } from '../sip-client/sip-client.service';
import { B2B_REMOTE, type B2bRemote } from './b2b-remote';
import { B2bController } from './b2b.controller';
import { B2bService } from './b2b.service';

/** B2B's subscriptions held by the shared outgoing client. */
function remoteThrough(client: SipClientService): B2bRemote {
  return {
    subscribe: (input) => client.subscribe(input),
    unsubscribe: (owner, key) => client.unsubscribe(owner, key),
    get: (owner, key) => client.get('subscribe', owner, key),
    list: (owner) => client.list('subscribe', owner),
    onNotify: (owner, handler) => {
      client.onNotify(owner, handler);
    },
    onStatus: (owner, listener) => {
      client.onStatus(owner, listener);
    },
  };
}

/**
 * `presence_b2b`: watchers of presentities served elsewhere are served by SIP subscriptions to them, through
 * the shared outgoing client; REST at /api/b2b/subscriptions.
 */
@Module({
  imports: [PaModule, SipClientModule],
  controllers: [B2bController],
  providers: [B2bService, { provide: B2B_REMOTE, useFactory: remoteThrough, inject: [SipClientService] }],
})
export class B2bModule {}
