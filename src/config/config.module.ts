import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './app-config';
import { processConfig } from './process-config';

/** Provides the validated {@link AppConfig}; the only place that reads `process.env`. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useFactory: () => config ?? processConfig() }],
      exports: [APP_CONFIG],
    };
  }
}
