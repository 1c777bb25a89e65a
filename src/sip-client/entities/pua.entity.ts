import { Column, Entity, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/**
 * One outgoing publication or subscription of the `pua` role (Kamailio's `pua` table): what was asked,
 * the entity tag or dialog the server gave, and when to refresh. Restored at start.
 */
@Entity({ name: 'pua' })
export class PuaEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.id.max })
  id!: string;

  /** `publish` or `subscribe`. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.subscriptionKind.max })
  kind!: string;

  /** The module holding it (`pua-reginfo`, `b2b`). */
  @Column({ type: 'varchar', length: FIELD_LIMITS.puaOwner.max })
  owner!: string;

  @Column({ name: 'owner_key', type: 'varchar', length: FIELD_LIMITS.puaUri.max })
  ownerKey!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.puaUri.max })
  uri!: string;

  @Column({ name: 'from_uri', type: 'varchar', length: FIELD_LIMITS.puaUri.max })
  fromUri!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.eventPackage.max })
  event!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.puaUri.max })
  route!: string;

  @Column({ type: 'integer' })
  expires!: number;

  @Column({ name: 'content_type', type: 'varchar', length: FIELD_LIMITS.contentType.max })
  contentType!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.entityTag.max })
  etag!: string;

  @Column({ name: 'call_id', type: 'varchar', length: FIELD_LIMITS.callId.max })
  callId!: string;

  @Column({ name: 'local_tag', type: 'varchar', length: FIELD_LIMITS.localTag.max })
  localTag!: string;

  @Column({ type: 'integer' })
  cseq!: number;

  /** The subscription's dialog as JSON, once created. */
  @Column({ type: 'text', nullable: true })
  dialog!: string | null;

  @Column({ type: 'varchar', length: FIELD_LIMITS.subscriptionStatus.max })
  state!: string;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;

  @Column({ name: 'retry_at', type: 'bigint', transformer: bigintNumber })
  retryAt!: number;

  @Column({ name: 'last_status', type: 'integer' })
  lastStatus!: number;

  @Column({ name: 'last_reason', type: 'varchar', length: FIELD_LIMITS.puaReason.max })
  lastReason!: string;

  /** Accept, refresh and retry options and the owner's data, as JSON. */
  @Column({ type: 'text' })
  options!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
