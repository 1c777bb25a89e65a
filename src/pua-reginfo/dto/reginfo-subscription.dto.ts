import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { OutgoingRecord } from '../../sip';

export class CreateReginfoSubscriptionDto {
  @ApiProperty({ example: 'sip:alice@registrar.example.com', description: 'AoR whose reginfo is subscribed to' })
  uri!: string;
  @ApiPropertyOptional({ example: 3600, description: 'Seconds, default puaReginfo.subscribeExpires' })
  expires?: number;
}

export class ReginfoSubscriptionDto {
  @ApiProperty({ description: 'Opaque id, for DELETE' }) id!: string;
  @ApiProperty({ example: 'sip:alice@registrar.example.com' }) uri!: string;
  @ApiProperty() expires!: number;
  @ApiProperty({ enum: ['sending', 'pending', 'active', 'retrying', 'terminated', 'removing'] }) state!: string;
  @ApiPropertyOptional({ description: 'When the subscription runs out at the notifier' }) expiresAt?: string;
  @ApiPropertyOptional({ description: 'When a failed subscription is tried again' }) retryAt?: string;
  @ApiProperty({ description: 'Status of the last answer (0 before any)' }) lastStatus!: number;
  @ApiProperty() lastReason!: string;
}

export class ReginfoUpdateDto {
  @ApiProperty({ example: 'sip:alice@example.com' }) aor!: string;
}

export class ReginfoUpdateResultDto {
  @ApiProperty() aor!: string;
  @ApiProperty({ description: 'Whether a PUBLISH went out (publishing on, and something to publish)' })
  published!: boolean;
}

export function toReginfoSubscriptionDto(r: Readonly<OutgoingRecord>): ReginfoSubscriptionDto {
  return {
    id: r.id,
    uri: r.uri,
    expires: r.expires,
    state: r.state,
    ...(r.expiresAt > 0 && { expiresAt: new Date(r.expiresAt).toISOString() }),
    ...(r.retryAt > 0 && { retryAt: new Date(r.retryAt).toISOString() }),
    lastStatus: r.lastStatus,
    lastReason: r.lastReason,
  };
}
