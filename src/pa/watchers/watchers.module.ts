import { Module } from '@nestjs/common';
import { PresenceCoreModule } from '../core/presence-core.module';
import { WatcherPolicyService } from './watcher-policy.service';
import { WatcherRuleRepository } from './watcher-rule.repository';
import { WatchersController } from './watchers.controller';
import { WinfoPackageProvider } from './winfo-package.provider';

/**
 * Watcher authorization for `presence`: rules per presentity, pending watchers, REST `/api/watchers`, and the
 * `presence.winfo` package (RFC 3857) that tells a presentity who watches it.
 */
@Module({
  imports: [PresenceCoreModule],
  controllers: [WatchersController],
  providers: [WatcherRuleRepository, WatcherPolicyService, WinfoPackageProvider],
  exports: [WatcherPolicyService],
})
export class WatchersModule {}
