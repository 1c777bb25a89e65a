import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/transformers';

/** One live publication (RFC 3903) — the `presentity` table of the SIP servers' presence module. */
@Entity({ name: 'presentity' })
@Index('idx_presentity_pres_event', ['presentity', 'event'])
@Index('idx_presentity_etag', ['etag'], { unique: true })
export class PublicationEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  presentity!: string;

  @Column({ type: 'varchar', length: 64 })
  event!: string;

  @Column({ type: 'varchar', length: 64 })
  etag!: string;

  @Column({ name: 'content_type', type: 'varchar', length: 128 })
  contentType!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'varchar', length: 255 })
  source!: string;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;

  @Column({ name: 'modified_at', type: 'bigint', transformer: bigintNumber })
  modifiedAt!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;
}
