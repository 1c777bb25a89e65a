import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type FindOptionsWhere } from 'typeorm';
import { GroupCommit } from '../database/group-commit';
import { ProfileChunkEntity } from './entities/profile-chunk.entity';
import { ProfileEntity } from './entities/profile.entity';
import type { Profile, ProfileMeta, ProfileType } from './profile';

/** Bytes per slice: below MySQL's BLOB limit of 65,535. */
export const CHUNK_BYTES = 60_000;

const chunkCount = (size: number): number => Math.max(1, Math.ceil(size / CHUNK_BYTES));

function toMeta(r: ProfileEntity): ProfileMeta {
  return {
    id: r.id,
    aor: r.aor,
    profileType: r.profileType as ProfileType,
    ...(r.vendor !== '' && { vendor: r.vendor }),
    ...(r.model !== '' && { model: r.model }),
    ...(r.version !== '' && { version: r.version }),
    ...(r.appids !== '' && { appids: r.appids }),
    contentType: r.contentType,
    etag: r.etag,
    size: r.size,
    ...(r.effectiveBy !== null && { effectiveBy: r.effectiveBy }),
    createdAt: r.createdAt,
    modifiedAt: r.modifiedAt,
  };
}

function toEntity(p: ProfileMeta): ProfileEntity {
  return Object.assign(new ProfileEntity(), {
    id: p.id,
    aor: p.aor,
    profileType: p.profileType,
    vendor: p.vendor ?? '',
    model: p.model ?? '',
    version: p.version ?? '',
    appids: p.appids ?? '',
    contentType: p.contentType,
    etag: p.etag,
    size: p.size,
    effectiveBy: p.effectiveBy ?? null,
    createdAt: p.createdAt,
    modifiedAt: p.modifiedAt,
  });
}

/** Filters of the profile list. */
export interface ProfileFilter {
  readonly aor?: string;
  readonly profileType?: ProfileType;
  readonly vendor?: string;
}

/**
 * The only code that touches `ua_profiles` and `ua_profile_chunks`. A write (document row and all its slices,
 * the previous version's slices deleted) is one unit of the group commit, so it is committed whole or not at all.
 */
@Injectable()
export class ProfileRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  async byId(id: string): Promise<ProfileMeta | undefined> {
    const row = await this.ds.getRepository(ProfileEntity).findOneBy({ id });
    return row ? toMeta(row) : undefined;
  }

  async byEtag(etag: string): Promise<ProfileMeta | undefined> {
    const row = await this.ds.getRepository(ProfileEntity).findOneBy({ etag });
    return row ? toMeta(row) : undefined;
  }

  /** The documents stored under any of `aors`. */
  async byAors(aors: readonly string[]): Promise<ProfileMeta[]> {
    const rows = await this.ds.getRepository(ProfileEntity).findBy({ aor: In([...aors]) });
    return rows.map(toMeta);
  }

  /** Documents matching `filter`, by AoR then id. */
  async list(filter: ProfileFilter): Promise<ProfileMeta[]> {
    const where: FindOptionsWhere<ProfileEntity> = {};
    if (filter.aor !== undefined) where.aor = filter.aor;
    if (filter.profileType !== undefined) where.profileType = filter.profileType;
    if (filter.vendor !== undefined) where.vendor = filter.vendor;
    const rows = await this.ds.getRepository(ProfileEntity).find({ where, order: { aor: 'ASC', id: 'ASC' } });
    return rows.map(toMeta);
  }

  /** The bytes of the version with entity tag `etag`, or undefined when it is no longer stored. */
  async body(etag: string, size: number): Promise<Buffer | undefined> {
    const rows = await this.ds.getRepository(ProfileChunkEntity).find({ where: { etag }, order: { seq: 'ASC' } });
    if (rows.length !== chunkCount(size)) return undefined;
    return Buffer.concat(rows.map((r) => Buffer.from(r.data)));
  }

  /** Stores a new version of a document in place of `previous` (same id), in one transaction. */
  async save(p: Profile, previous?: ProfileMeta): Promise<void> {
    await this.commits.run(async (m) => {
      const chunks: ProfileChunkEntity[] = [];
      for (let seq = 0; seq < chunkCount(p.size); seq++) {
        chunks.push(
          Object.assign(new ProfileChunkEntity(), {
            id: `${p.etag}.${seq}`,
            etag: p.etag,
            seq,
            data: p.body.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES),
          }),
        );
      }
      for (const c of chunks) await m.insert(ProfileChunkEntity, c);
      if (previous) {
        await m.delete(ProfileChunkEntity, { etag: previous.etag });
        await m.update(ProfileEntity, { id: p.id }, toEntity(p));
      } else {
        await m.insert(ProfileEntity, toEntity(p));
      }
    });
  }

  /** Removes a document and its bytes, in one transaction. */
  async remove(p: ProfileMeta): Promise<void> {
    await this.commits.run(async (m) => {
      await m.delete(ProfileEntity, { id: p.id });
      await m.delete(ProfileChunkEntity, { etag: p.etag });
    });
  }
}
