import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { rethrowDatabaseError } from '../../database/database-errors';
import { GroupCommit } from '../../database/group-commit';
import { WatcherRuleEntity } from './entities/watcher-rule.entity';

/** A presentity's rule for one watcher (`*`: every watcher without its own rule). */
export type WatcherPolicy = 'allow' | 'deny' | 'polite-block' | 'pending';

export const WATCHER_POLICIES: readonly WatcherPolicy[] = ['allow', 'deny', 'polite-block', 'pending'];

export interface WatcherRule {
  readonly presentity: string;
  readonly watcher: string;
  readonly policy: WatcherPolicy;
  readonly updatedAt: number;
}

function toRule(e: WatcherRuleEntity): WatcherRule {
  const policy = WATCHER_POLICIES.find((p) => p === e.policy) ?? 'pending';
  return { presentity: e.presentity, watcher: e.watcher, policy, updatedAt: e.updatedAt };
}

/** The only code that touches `watcher_rules`; writes go through the group commit. */
@Injectable()
export class WatcherRuleRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  async all(): Promise<WatcherRule[]> {
    const rows = await this.ds.getRepository(WatcherRuleEntity).find().catch(rethrowDatabaseError);
    return rows.map(toRule);
  }

  async save(rule: WatcherRule): Promise<void> {
    await this.commits.run(async (m) => {
      await m.save(WatcherRuleEntity, { ...rule }, { reload: false });
    });
  }

  async remove(presentity: string, watcher: string): Promise<boolean> {
    return this.commits.run(async (m) => {
      const r = await m.delete(WatcherRuleEntity, { presentity, watcher });
      return (r.affected ?? 0) > 0;
    });
  }
}
