import { Module } from '@nestjs/common';
import { PresenceApiModule } from './api/presence-api.module';
import { PresenceCoreModule } from './core/presence-core.module';
import { PresencePackageProvider } from './presence/presence-package.provider';
import { WatchersModule } from './watchers/watchers.module';

/** `pa`: the presence server — the presence core, the `presence` event package (RFC 3856) and its watcher authorization. */
@Module({
  imports: [PresenceCoreModule, PresenceApiModule, WatchersModule],
  providers: [PresencePackageProvider],
  exports: [PresenceCoreModule],
})
export class PaModule {}
