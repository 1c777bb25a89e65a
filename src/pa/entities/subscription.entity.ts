import { Column, Entity, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/**
 * One SIP or internal subscription kept across restarts (the `active_watchers` table). Browser WebSocket
 * subscriptions live and die with their socket and are not stored. An internal watcher has no dialog: its
 * dialog columns are empty and `owner` names the module its deliveries go to.
 */
@Entity({ name: 'active_watchers' })
export class SubscriptionEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.id.max })
  id!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.subscriptionKind.max })
  kind!: string;

  /** The module of an internal watcher; null for SIP ones. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.owner.max, nullable: true, default: null })
  owner!: string | null;

  @Column({ type: 'varchar', length: FIELD_LIMITS.aor.max })
  presentity!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.eventPackage.max })
  event!: string;

  @Column({ name: 'event_id', type: 'varchar', length: FIELD_LIMITS.eventId.max, nullable: true, default: null })
  eventId!: string | null;

  @Column({ type: 'varchar', length: FIELD_LIMITS.watcher.max })
  watcher!: string;

  @Column({ type: 'varchar', length: FIELD_LIMITS.subscriptionStatus.max })
  status!: string;

  /** Accept header values, comma-separated. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.accept.max })
  accept!: string;

  @Column({ name: 'call_id', type: 'varchar', length: FIELD_LIMITS.callId.max })
  callId!: string;

  @Column({ name: 'local_tag', type: 'varchar', length: FIELD_LIMITS.localTag.max })
  localTag!: string;

  /** The dialog state (RFC 3261 §12) as JSON: tags, URIs, route set, remote target, flow. */
  @Column({ type: 'text' })
  dialog!: string;

  /** The Event header's parameters other than `id`, as a JSON object; null when there were none. */
  @Column({ name: 'event_params', type: 'text', nullable: true, default: null })
  eventParams!: string | null;

  /** The event package's own state of this subscription (JSON), as last written with the row. */
  @Column({ name: 'package_state', type: 'text', nullable: true, default: null })
  packageState!: string | null;

  /** NOTIFY CSeq numbers up to this one may be used before it is raised (and committed) again. */
  @Column({ name: 'cseq_reserved', type: 'integer' })
  cseqReserved!: number;

  @Column({ name: 'remote_cseq', type: 'integer' })
  remoteCseq!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;
}
