import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PortsModule } from '../common/ports.module';
import { AccessGuard } from './access.guard';
import { AccessService } from './access.service';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService } from './api-key.service';
import { ApiKeysController } from './api-keys.controller';
import { RateLimits } from './rate-limits';

/**
 * Who may use the REST API and the WebSockets (README, "Security"): API keys with roles, the global guard,
 * WebSocket tokens, rate limits per address and identity.
 */
@Global()
@Module({
  imports: [PortsModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeyRepository,
    ApiKeyService,
    RateLimits,
    AccessService,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [ApiKeyService, RateLimits, AccessService],
})
export class AccessModule {}
