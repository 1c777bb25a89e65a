import { ApiProperty } from '@nestjs/swagger';
import type { Subscription } from '../../core/subscription';

export class SubscriptionDto {
  @ApiProperty({ description: 'Subscription id' }) id!: string;
  @ApiProperty({ enum: ['sip', 'ws', 'internal'], description: 'How the watcher is reached' }) kind!: string;
  @ApiProperty({ example: 'sip:alice@example.com' }) presentity!: string;
  @ApiProperty({ example: 'presence' }) event!: string;
  @ApiProperty({ description: 'The watcher: a SIP AoR, a browser user or ws:<socket>, an internal client' })
  watcher!: string;
  @ApiProperty({ enum: ['active', 'pending', 'terminated'] }) status!: string;
  @ApiProperty({ example: '2030-01-01T00:00:00.000Z' }) expiresAt!: string;
  @ApiProperty({ description: 'Seconds left' }) expires!: number;
}

/** One page of subscriptions; `total` counts all that match the filters. */
export class SubscriptionListDto {
  @ApiProperty({ type: [SubscriptionDto] }) items!: SubscriptionDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
}

/** The one place a subscription becomes its REST form. */
export function toSubscriptionDto(s: Subscription, now: number): SubscriptionDto {
  return {
    id: s.id,
    kind: s.kind,
    presentity: s.presentity,
    event: s.event,
    watcher: s.watcher,
    status: s.status,
    expiresAt: new Date(s.expiresAt).toISOString(),
    expires: Math.max(0, Math.round((s.expiresAt - now) / 1000)),
  };
}
