import { Module } from '@nestjs/common';
import { PresenceCoreModule } from '../core/presence-core.module';
import { WatcherPolicyService } from './watcher-policy.service';
import { WatcherRuleRepository } from './watcher-rule.repository';
import { WatchersController } from './watchers.controller';

/** Watcher authorization for `presence`: rules per presentity, pending watchers, REST `/api/watchers`. */
@Module({
  imports: [PresenceCoreModule],
  controllers: [WatchersController],
  providers: [WatcherRuleRepository, WatcherPolicyService],
  exports: [WatcherPolicyService],
})
export class WatchersModule {}
