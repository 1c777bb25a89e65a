import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';

/**
 * A slice of a profile document's bytes: a document of any size in BLOB columns, which hold 65,535 bytes on
 * MySQL and have the same name on SQLite. Keyed by the document version's entity tag, so a new version is
 * written beside the old one and the old one deleted in the same transaction.
 */
@Entity({ name: 'ua_profile_chunks' })
@Index('idx_ua_profile_chunks_etag', ['etag'])
export class ProfileChunkEntity {
  /** `<etag>.<seq>`. */
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.chunkId.max })
  id!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.entityTag.max })
  etag!: string;

  @Column({ type: 'integer' })
  seq!: number;

  @Column({ type: 'blob' })
  data!: Buffer;
}
