import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { GroupCommit } from '../../database/group-commit';
import { Dialog, type Flow } from '../../sip';
import { SubscriptionEntity } from '../entities/subscription.entity';
import { acceptLists } from './compact';
import type { EventParams } from './event-package';
import type { SipSubscription, SubscriptionStatus } from './subscription';

interface StoredDialog {
  readonly dialog: unknown;
  readonly flow: Flow;
}

/** A row of `active_watchers` as the drivers return it (BIGINT may come as a string). */
interface RawSubscriptionRow {
  id: string;
  presentity: string;
  event: string;
  event_id: string | null;
  watcher: string;
  status: string;
  accept: string;
  call_id: string;
  local_tag: string;
  dialog: string;
  event_params: string | null;
  package_state: string | null;
  cseq_reserved: number | string;
  remote_cseq: number | string;
  expires_at: number | string;
  created_at: number | string;
}

function toEntity(s: SipSubscription, packageState: unknown): SubscriptionEntity {
  const stored: StoredDialog = { dialog: s.dialog.toJSON(), flow: s.flow };
  return Object.assign(new SubscriptionEntity(), {
    id: s.id,
    kind: s.kind,
    presentity: s.presentity,
    event: s.event,
    eventId: s.eventId ?? null,
    watcher: s.watcher.slice(0, FIELD_LIMITS.watcher.max),
    status: s.status,
    accept: s.accept.join(',').slice(0, FIELD_LIMITS.accept.max),
    callId: s.dialog.callId,
    localTag: s.dialog.localTag,
    dialog: JSON.stringify(stored),
    eventParams: s.eventParams ? JSON.stringify(s.eventParams) : null,
    packageState: packageState === undefined ? null : JSON.stringify(packageState),
    cseqReserved: s.cseqReserved,
    remoteCseq: s.remoteCseq,
    expiresAt: s.expiresAt,
    createdAt: s.createdAt,
  });
}

function fromEntity(e: SubscriptionEntity): SipSubscription {
  const stored = JSON.parse(e.dialog) as StoredDialog;
  const dialog = Dialog.fromJSON(stored.dialog as Parameters<typeof Dialog.fromJSON>[0]);
  // Continue above every CSeq that may have been used before the restart (RFC 3261 §12.2.1.1).
  dialog.localSeq = Math.max(dialog.localSeq, e.cseqReserved);
  return {
    kind: 'sip',
    id: e.id,
    presentity: e.presentity,
    event: e.event,
    eventId: e.eventId ?? undefined,
    ...(e.eventParams && { eventParams: Object.freeze(JSON.parse(e.eventParams) as EventParams) }),
    ...(e.packageState !== null && { packageState: JSON.parse(e.packageState) as unknown }),
    watcher: e.watcher,
    status: e.status as SubscriptionStatus,
    accept: acceptLists.intern(e.accept ? e.accept.split(',') : []),
    dialog,
    flow: stored.flow,
    remoteCseq: e.remoteCseq,
    cseqReserved: e.cseqReserved,
    expiresAt: e.expiresAt,
    createdAt: e.createdAt,
  };
}

/** The only code that touches `active_watchers`; writes go through the group commit. */
@Injectable()
export class SubscriptionRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  /**
   * Every stored SIP subscription, for the start. Read as raw rows rather than entities: TypeORM's
   * hydration of 100,000 rows costs about half a second and doubles what is alive at the peak.
   */
  async loadSip(): Promise<SipSubscription[]> {
    const rows = await this.ds.query<(RawSubscriptionRow | undefined)[]>(
      'SELECT id, presentity, event, event_id, watcher, status, accept, call_id, local_tag, dialog, event_params, package_state, cseq_reserved, remote_cseq, expires_at, created_at FROM active_watchers WHERE kind = ?',
      ['sip'],
    );
    const out: SipSubscription[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!r) continue;
      out.push(
        fromEntity(
          Object.assign(new SubscriptionEntity(), {
            id: r.id,
            kind: 'sip',
            presentity: r.presentity,
            event: r.event,
            eventId: r.event_id,
            watcher: r.watcher,
            status: r.status,
            accept: r.accept,
            callId: r.call_id,
            localTag: r.local_tag,
            dialog: r.dialog,
            eventParams: r.event_params,
            packageState: r.package_state,
            cseqReserved: Number(r.cseq_reserved),
            remoteCseq: Number(r.remote_cseq),
            expiresAt: Number(r.expires_at),
            createdAt: Number(r.created_at),
          }),
        ),
      );
      rows[i] = undefined; // let the row go as soon as it is converted
    }
    return out;
  }

  /** Stores a subscription; `packageState` when the one to store is not (yet) the subscription's current one. */
  async save(s: SipSubscription, packageState: unknown = s.packageState): Promise<void> {
    await this.commits.upsert(SubscriptionEntity, s.id, toEntity(s, packageState));
  }

  async remove(id: string): Promise<void> {
    await this.commits.delete(SubscriptionEntity, id);
  }
}
