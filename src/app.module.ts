import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { B2bModule } from './b2b/b2b.module';
import { AuthModule } from './auth/auth.module';
import { AccessModule } from './access/access.module';
import { PINO } from './common/app-logger';
import { HealthController } from './common/health.controller';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { LocationModule } from './location/location.module';
import { PaModule } from './pa/pa.module';
import { PresenceProfileModule } from './presence-profile/presence-profile.module';
import { PresenceReginfoModule } from './presence-reginfo/presence-reginfo.module';
import { PuaReginfoModule } from './pua-reginfo/pua-reginfo.module';
import { SipBridgeModule } from './sip-bridge/sip-bridge.module';
import { SipClientModule } from './sip-client/sip-client.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, pino: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        AccessModule,
        SipBridgeModule,
        SipClientModule,
        AuthModule,
        LocationModule,
        PaModule,
        PresenceReginfoModule,
        PuaReginfoModule,
        PresenceProfileModule,
        B2bModule,
      ],
      controllers: [HealthController],
      providers: [{ provide: PINO, useValue: pino }],
      exports: [PINO],
    };
  }
}
