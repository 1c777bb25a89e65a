import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PortsModule } from '../common/ports.module';
import { AccessGuard } from './access.guard';
import { AccessService } from './access.service';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService } from './api-key.service';
import { ApiKeysController } from './api-keys.controller';
import { RateLimits } from './rate-limits';
import { ALLOW_ALL_WATCHERS, WATCHER_POLICY } from './watcher-policy';

/**
 * Who may use the REST API and the WebSockets (README, "Security"): API keys with roles, the global guard,
 * WebSocket tokens, rate limits per address and identity, and the watcher policy the gateways ask.
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
    { provide: WATCHER_POLICY, useValue: ALLOW_ALL_WATCHERS },
  ],
  exports: [ApiKeyService, RateLimits, AccessService, WATCHER_POLICY],
})
export class AccessModule {}
