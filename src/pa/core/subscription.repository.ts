import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GroupCommit } from '../../database/group-commit';
import { Dialog, type Flow } from '../../sip';
import { SubscriptionEntity } from '../entities/subscription.entity';
import type { SipSubscription, SubscriptionStatus } from './subscription';

interface StoredDialog {
  readonly dialog: unknown;
  readonly flow: Flow;
}

function toEntity(s: SipSubscription): SubscriptionEntity {
  const stored: StoredDialog = { dialog: s.dialog.toJSON(), flow: s.flow };
  return Object.assign(new SubscriptionEntity(), {
    id: s.id,
    kind: s.kind,
    presentity: s.presentity,
    event: s.event,
    eventId: s.eventId ?? null,
    watcher: s.watcher.slice(0, 255),
    status: s.status,
    accept: s.accept.join(',').slice(0, 512),
    callId: s.dialog.callId,
    localTag: s.dialog.localTag,
    dialog: JSON.stringify(stored),
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
    watcher: e.watcher,
    status: e.status as SubscriptionStatus,
    accept: e.accept ? e.accept.split(',') : [],
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

  async loadSip(): Promise<SipSubscription[]> {
    const rows = await this.ds.getRepository(SubscriptionEntity).findBy({ kind: 'sip' });
    return rows.map(fromEntity);
  }

  async save(s: SipSubscription): Promise<void> {
    await this.commits.upsert(SubscriptionEntity, s.id, toEntity(s));
  }

  async remove(id: string): Promise<void> {
    await this.commits.delete(SubscriptionEntity, id);
  }
}
