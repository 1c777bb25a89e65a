import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/transformers';

/**
 * One SIP subscription kept across restarts (the `active_watchers` table). Browser WebSocket subscriptions live
 * and die with their socket, and internal watchers with the module that created them (it creates them again at
 * start from its own stored state): neither is stored here.
 */
@Entity({ name: 'active_watchers' })
export class SubscriptionEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: string;

  @Column({ type: 'varchar', length: 255 })
  presentity!: string;

  @Column({ type: 'varchar', length: 64 })
  event!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 128, nullable: true, default: null })
  eventId!: string | null;

  @Column({ type: 'varchar', length: 255 })
  watcher!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  /** Accept header values, comma-separated. */
  @Column({ type: 'varchar', length: 512 })
  accept!: string;

  @Column({ name: 'call_id', type: 'varchar', length: 255 })
  callId!: string;

  @Column({ name: 'local_tag', type: 'varchar', length: 64 })
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
