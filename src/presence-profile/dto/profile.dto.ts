import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PROFILE_TYPES, type ProfileMeta } from '../profile';
import type { ProfileHolder } from '../ua-profile.package';

/** A stored `ua-profile` document version, without its bytes. */
export class ProfileDto {
  @ApiProperty({ example: 'sip:alice@example.com', description: 'AoR, device URI, or sip:anonymous@<domain>' })
  aor!: string;

  @ApiProperty({ enum: PROFILE_TYPES }) profileType!: string;
  @ApiPropertyOptional({ example: 'acme' }) vendor?: string;
  @ApiPropertyOptional({ example: 'phone-3' }) model?: string;
  @ApiPropertyOptional({ example: '2.1' }) version?: string;
  @ApiPropertyOptional({ example: 'app1,app2' }) appids?: string;
  @ApiProperty({ example: 'application/xml', description: 'As the upload sent it' }) contentType!: string;
  @ApiProperty({ description: 'Entity tag of this version; send it as If-Match' }) etag!: string;
  @ApiProperty({ description: 'Bytes' }) size!: number;
  @ApiPropertyOptional({ description: 'RFC 6080 effective-by, seconds' }) effectiveBy?: number;
  @ApiProperty({ description: 'Epoch milliseconds' }) createdAt!: number;
  @ApiProperty({ description: 'Epoch milliseconds of this version' }) modifiedAt!: number;
}

export class ProfilePageDto {
  @ApiProperty({ type: [ProfileDto] }) items!: ProfileDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
}

/** A subscriber of an AoR's profiles and the version it was last sent. */
export class ProfileHolderDto {
  @ApiProperty() subscription!: string;
  @ApiProperty({ example: 'sip:alice@example.com' }) watcher!: string;
  @ApiProperty({ example: 'sip' }) kind!: string;
  @ApiProperty({ description: 'Event header parameters of its SUBSCRIBE (profile-type, vendor, ...)' })
  target!: Record<string, string | null>;

  @ApiPropertyOptional({
    nullable: true,
    description: 'Entity tag of the version last sent; null: a NOTIFY without body; absent: nothing sent yet',
  })
  etag?: string | null;

  @ApiProperty({ description: 'Epoch milliseconds' }) expiresAt!: number;
}

/** Which versions exist for an AoR and which subscriber holds which. */
export class ProfileStatusDto {
  @ApiProperty() aor!: string;
  @ApiProperty({ type: [ProfileDto] }) versions!: ProfileDto[];
  @ApiProperty({ type: [ProfileHolderDto] }) subscribers!: ProfileHolderDto[];
}

export function toProfileDto(p: ProfileMeta): ProfileDto {
  return {
    aor: p.aor,
    profileType: p.profileType,
    ...(p.vendor !== undefined && { vendor: p.vendor }),
    ...(p.model !== undefined && { model: p.model }),
    ...(p.version !== undefined && { version: p.version }),
    ...(p.appids !== undefined && { appids: p.appids }),
    contentType: p.contentType,
    etag: p.etag,
    size: p.size,
    ...(p.effectiveBy !== undefined && { effectiveBy: p.effectiveBy }),
    createdAt: p.createdAt,
    modifiedAt: p.modifiedAt,
  };
}

export function toHolderDto(h: ProfileHolder): ProfileHolderDto {
  return { ...h, target: { ...h.target } };
}
