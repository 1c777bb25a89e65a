import { Module } from '@nestjs/common';
import { PresenceApiModule } from './api/presence-api.module';
import { PresenceCoreModule } from './core/presence-core.module';
import { PresencePackageProvider } from './presence/presence-package.provider';

/** `pa`: the presence server — the presence core plus the `presence` event package (RFC 3856). */
@Module({
  imports: [PresenceCoreModule, PresenceApiModule],
  providers: [PresencePackageProvider],
  exports: [PresenceCoreModule],
})
export class PaModule {}
