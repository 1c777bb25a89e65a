import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GroupCommit } from '../database/group-commit';
import type { DialogJSON, OutgoingKind, OutgoingOptions, OutgoingRecord, OutgoingState, OutgoingStore } from '../sip';
import { PuaEntity } from './entities/pua.entity';

function toRecord(r: PuaEntity): OutgoingRecord {
  return {
    id: r.id,
    kind: r.kind as OutgoingKind,
    owner: r.owner,
    key: r.ownerKey,
    uri: r.uri,
    from: r.fromUri,
    event: r.event,
    route: r.route,
    expires: r.expires,
    contentType: r.contentType,
    body: r.body,
    etag: r.etag,
    callId: r.callId,
    localTag: r.localTag,
    cseq: r.cseq,
    ...(r.dialog !== null && { dialog: JSON.parse(r.dialog) as DialogJSON }),
    state: r.state as OutgoingState,
    expiresAt: r.expiresAt,
    retryAt: r.retryAt,
    lastStatus: r.lastStatus,
    lastReason: r.lastReason,
    options: JSON.parse(r.options) as OutgoingOptions,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function toEntity(r: OutgoingRecord): PuaEntity {
  return Object.assign(new PuaEntity(), {
    id: r.id,
    kind: r.kind,
    owner: r.owner,
    ownerKey: r.key,
    uri: r.uri,
    fromUri: r.from,
    event: r.event,
    route: r.route,
    expires: r.expires,
    contentType: r.contentType,
    body: r.body,
    etag: r.etag,
    callId: r.callId,
    localTag: r.localTag,
    cseq: r.cseq,
    dialog: r.dialog ? JSON.stringify(r.dialog) : null,
    state: r.state,
    expiresAt: r.expiresAt,
    retryAt: r.retryAt,
    lastStatus: r.lastStatus,
    lastReason: r.lastReason.slice(0, 255),
    options: JSON.stringify(r.options),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  });
}

/** The only code that touches the `pua` table; writes go through the group commit. */
@Injectable()
export class SipClientRepository implements OutgoingStore {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  async loadAll(): Promise<OutgoingRecord[]> {
    const rows = await this.ds.getRepository(PuaEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(toRecord);
  }

  save(record: OutgoingRecord): Promise<void> {
    return this.commits.upsert(PuaEntity, record.id, toEntity(record));
  }

  remove(id: string): Promise<void> {
    return this.commits.delete(PuaEntity, id);
  }
}
