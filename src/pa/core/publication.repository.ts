import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { GroupCommit } from '../../database/group-commit';
import { PublicationEntity } from '../entities/publication.entity';
import type { Publication } from './publication';

function toEntity(p: Publication): PublicationEntity {
  return Object.assign(new PublicationEntity(), {
    id: p.id,
    presentity: p.presentity,
    event: p.event,
    etag: p.etag,
    contentType: p.contentType,
    body: p.body,
    source: p.source.slice(0, FIELD_LIMITS.source.max),
    expiresAt: p.expiresAt,
    modifiedAt: p.modifiedAt,
    createdAt: p.createdAt,
  });
}

/** The only code that touches the `presentity` table; writes go through the group commit. */
@Injectable()
export class PublicationRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  async loadAll(): Promise<Publication[]> {
    const rows = await this.ds.getRepository(PublicationEntity).find();
    return rows.map((r) => ({
      id: r.id,
      presentity: r.presentity,
      event: r.event,
      etag: r.etag,
      contentType: r.contentType,
      body: r.body,
      source: r.source,
      expiresAt: r.expiresAt,
      modifiedAt: r.modifiedAt,
      createdAt: r.createdAt,
    }));
  }

  async save(p: Publication): Promise<void> {
    await this.commits.upsert(PublicationEntity, p.id, toEntity(p));
  }

  async remove(id: string): Promise<void> {
    await this.commits.delete(PublicationEntity, id);
  }
}
