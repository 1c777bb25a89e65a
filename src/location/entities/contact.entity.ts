import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/** One binding of an AoR in a location domain (the `location` table of the SIP servers' usrloc). */
@Entity({ name: 'location' })
@Index('idx_location_domain_aor', ['domain', 'aor'])
@Index('idx_location_expires', ['expiresAt'])
export class ContactEntity {
  /** Opaque id, also the `{id}` of the REST API (the `ruid` of usrloc). */
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.id.max })
  id!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.domain.max })
  domain!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.aor.max })
  aor!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.contactUri.max })
  contact!: string;

  /** The Contact's display name and other parameters, JSON `{"name": ..., "params": [[name, value]]}`. */
  @Column({ name: 'contact_params', type: 'text', nullable: true, default: null })
  contactParams!: string | null;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;

  /** q-value times 1000 (RFC 3261 §20.10), or null when the Contact had none. */
  @Column({ type: 'integer', nullable: true, default: null })
  q!: number | null;

  @Column({ name: 'call_id', type: 'varchar', length: FIELD_LIMITS.callId.max })
  callId!: string;

  @Column({ type: 'integer' })
  cseq!: number;

  /** `+sip.instance` (RFC 5626 §4.1). */
  @Column({ type: 'varchar', length: FIELD_LIMITS.instance.max, nullable: true, default: null })
  instance!: string | null;

  @Column({ name: 'reg_id', type: 'integer', nullable: true, default: null })
  regId!: number | null;

  /** Path header values (RFC 3327), JSON array. */
  @Column({ type: 'text', nullable: true, default: null })
  path!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: FIELD_LIMITS.userAgent.max })
  userAgent!: string;

  /** Where the REGISTER came from, for routing back (connection reuse). */
  @Column({ name: 'source_proto', type: 'varchar', length: FIELD_LIMITS.protocol.max })
  sourceProto!: string;

  @Column({ name: 'source_ip', type: 'varchar', length: FIELD_LIMITS.ip.max })
  sourceIp!: string;

  @Column({ name: 'source_port', type: 'integer' })
  sourcePort!: number;

  @Column({ name: 'local_ip', type: 'varchar', length: FIELD_LIMITS.ip.max })
  localIp!: string;

  @Column({ name: 'local_port', type: 'integer' })
  localPort!: number;

  @Column({
    name: 'connection_id',
    type: 'varchar',
    length: FIELD_LIMITS.connectionId.max,
    nullable: true,
    default: null,
  })
  connectionId!: string | null;

  /** Where a binding learned from reginfo came from (the subscription's URI); null for REGISTERed ones. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.puaUri.max, nullable: true, default: null })
  origin!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
