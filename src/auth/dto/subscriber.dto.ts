import { ApiProperty } from '@nestjs/swagger';
import type { Subscriber } from '../subscriber';

/** A digest user as the API shows it: never a password nor an HA1. */
export class SubscriberDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ example: 'example.com' }) domain!: string;
  @ApiProperty({ example: 'sip:alice@example.com', description: 'The identity it authenticates as' }) aor!: string;
  @ApiProperty({ example: 'example.com', description: 'Digest realm its HA1s were computed for' }) realm!: string;
  @ApiProperty({ description: 'Epoch milliseconds' }) createdAt!: number;
  @ApiProperty({ description: 'Epoch milliseconds of the last password change' }) modifiedAt!: number;
}

export class SubscriberPageDto {
  @ApiProperty({ type: [SubscriberDto] }) items!: SubscriberDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
}

export class CreateSubscriberDto {
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ example: 'example.com' }) domain!: string;
  @ApiProperty({ example: 's3cret', description: 'Kept only as HA1 (MD5 and SHA-256)' }) password!: string;
}

export class SubscriberPasswordDto {
  @ApiProperty({ example: 'n3w-s3cret' }) password!: string;
}

export function toSubscriberDto(s: Subscriber): SubscriberDto {
  return {
    id: s.id,
    username: s.username,
    domain: s.domain,
    aor: `sip:${s.username}@${s.domain}`,
    realm: s.realm,
    createdAt: s.createdAt,
    modifiedAt: s.modifiedAt,
  };
}
