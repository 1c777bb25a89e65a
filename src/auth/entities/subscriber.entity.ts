import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/**
 * A user who may authenticate with SIP digest — Kamailio's `subscriber` table. The password itself is never
 * stored: only HA1 = H(username:realm:password) for MD5 and SHA-256 (RFC 8760), for the realm of the row.
 */
@Entity({ name: 'subscriber' })
@Index('idx_subscriber_user', ['username', 'domain'], { unique: true })
export class SubscriberEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.id.max })
  id!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.username.max })
  username!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.subscriberDomain.max })
  domain!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.realm.max })
  realm!: string;

  @Column({ name: 'ha1_md5', type: 'varchar', length: FIELD_LIMITS.ha1Md5.max })
  ha1Md5!: string;

  @Column({ name: 'ha1_sha256', type: 'varchar', length: FIELD_LIMITS.ha1Sha256.max })
  ha1Sha256!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'modified_at', type: 'bigint', transformer: bigintNumber })
  modifiedAt!: number;
}
