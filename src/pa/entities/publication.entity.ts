import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/** One live publication (RFC 3903) — the `presentity` table of the SIP servers' presence module. */
@Entity({ name: 'presentity' })
@Index('idx_presentity_pres_event', ['presentity', 'event'])
@Index('idx_presentity_etag', ['etag'], { unique: true })
export class PublicationEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.id.max })
  id!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.aor.max })
  presentity!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.eventPackage.max })
  event!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.entityTag.max })
  etag!: string;

  @Column({ name: 'content_type', type: 'varchar', length: FIELD_LIMITS.contentType.max })
  contentType!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.source.max })
  source!: string;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;

  @Column({ name: 'modified_at', type: 'bigint', transformer: bigintNumber })
  modifiedAt!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;
}
