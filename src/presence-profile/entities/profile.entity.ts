import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/**
 * One provisioning document of the `ua-profile` package (RFC 6080) without its bytes, which are kept in
 * {@link ProfileChunkEntity} rows — Kamailio's presence_profile keeps one row per AoR in `presentity`.
 * Targets that are not set are stored as empty strings.
 */
@Entity({ name: 'ua_profiles' })
@Index('idx_ua_profiles_aor', ['aor'])
export class ProfileEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.id.max })
  id!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.aor.max })
  aor!: string;

  @Column({ name: 'profile_type', type: 'varchar', length: FIELD_LIMITS.profileType.max })
  profileType!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.profileTarget.max })
  vendor!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.profileTarget.max })
  model!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.profileTarget.max })
  version!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.appids.max })
  appids!: string;

  @Column({ name: 'content_type', type: 'varchar', length: FIELD_LIMITS.contentType.max })
  contentType!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.entityTag.max })
  etag!: string;

  @Column({ type: 'integer' })
  size!: number;

  @Column({ name: 'effective_by', type: 'integer', nullable: true })
  effectiveBy!: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'modified_at', type: 'bigint', transformer: bigintNumber })
  modifiedAt!: number;
}
