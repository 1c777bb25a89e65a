import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ApiKeyRecord } from '../api-key.repository';

/** An API key as listed: never the key itself. */
export class ApiKeyDto {
  @ApiProperty({ description: 'Key id (for GET and DELETE /api/keys/{id})' }) id!: string;
  @ApiProperty({ description: 'The first characters of the key, to tell keys apart', example: 'ph_Ab3xYz' })
  prefix!: string;
  @ApiProperty({ enum: ['admin', 'user'] }) role!: string;
  @ApiPropertyOptional({ description: 'The AoR a user key acts for', example: 'sip:alice@example.com' })
  aor?: string;
  @ApiProperty({ example: 'provisioning script' }) label!: string;
  @ApiProperty({ example: '2026-12-02T10:00:00.000Z' }) createdAt!: string;
  @ApiPropertyOptional({ description: 'After this the key is refused', example: '2027-12-02T00:00:00.000Z' })
  expiresAt?: string;
}

/** Answer to creating a key: the only time the key is shown. */
export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The key: send it as Authorization: Bearer <key>. It is not shown again.' })
  key!: string;
}

/** Body of POST /api/keys. */
export class CreateApiKeyDto {
  @ApiProperty({ enum: ['admin', 'user'] }) role!: string;
  @ApiPropertyOptional({ description: 'Required for a user key: the AoR it acts for' }) aor?: string;
  @ApiPropertyOptional({ maxLength: 128 }) label?: string;
  @ApiPropertyOptional({ description: 'ISO date after which the key is refused; default never' })
  expiresAt?: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto] }) items!: ApiKeyDto[];
}

export function toApiKeyDto(k: ApiKeyRecord): ApiKeyDto {
  return {
    id: k.id,
    prefix: k.prefix,
    role: k.role,
    ...(k.aor !== undefined && { aor: k.aor }),
    label: k.label,
    createdAt: new Date(k.createdAt).toISOString(),
    ...(k.expiresAt !== undefined && { expiresAt: new Date(k.expiresAt).toISOString() }),
  };
}
