import { ApiProperty } from '@nestjs/swagger';
import { WATCHER_POLICIES, type WatcherRule } from '../watcher-rule.repository';

export class WatcherRuleDto {
  @ApiProperty({ example: 'sip:alice@example.com' }) presentity!: string;
  @ApiProperty({ example: 'sip:bob@example.com', description: 'The watcher, or `*` for every watcher without a rule' })
  watcher!: string;
  @ApiProperty({ enum: WATCHER_POLICIES, description: '`pending`: the watcher asked and waits for a decision' })
  policy!: string;
  @ApiProperty({ example: '2030-01-01T00:00:00.000Z' }) updatedAt!: string;
}

export class WatcherRuleListDto {
  @ApiProperty({ type: [WatcherRuleDto] }) items!: WatcherRuleDto[];
}

export class SetWatcherRuleDto {
  @ApiProperty({ enum: WATCHER_POLICIES }) policy!: string;
}

export class DenyWatcherDto {
  @ApiProperty({
    required: false,
    description: 'true: polite-block (the watcher is told active but sees a neutral state, RFC 5025 §3.2.1)',
  })
  polite?: boolean;
}

/** The one place a rule becomes its REST form. */
export function toWatcherRuleDto(r: WatcherRule): WatcherRuleDto {
  return {
    presentity: r.presentity,
    watcher: r.watcher,
    policy: r.policy,
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}
