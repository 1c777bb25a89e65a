import { Column, Entity, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../../common/field-limits';
import { bigintNumber } from '../../../database/transformers';

/**
 * A presentity's rule for one watcher, or for every watcher without one (`watcher` = `*`): allow, deny,
 * polite-block, or pending (the watcher asked and waits for the presentity's decision; RFC 3857's `waiting`).
 * The `watcher_rules` table.
 */
@Entity({ name: 'watcher_rules' })
export class WatcherRuleEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.aor.max })
  presentity!: string;

  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.watcher.max })
  watcher!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.watcherPolicy.max })
  policy!: string;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
