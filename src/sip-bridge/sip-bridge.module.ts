import { Global, Module } from '@nestjs/common';
import { SipBridge } from './sip-bridge.service';

/** The SIP bridge, shared by every feature module that handles or sends SIP. */
@Global()
@Module({ providers: [SipBridge], exports: [SipBridge] })
export class SipBridgeModule {}
