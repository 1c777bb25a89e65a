import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GroupCommit } from '../database/group-commit';
import { ApiKeyEntity } from './entities/api-key.entity';
import type { Role } from './principal';

/** An API key as stored: everything but the key itself. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly hash: string;
  readonly prefix: string;
  readonly role: Role;
  readonly aor?: string;
  readonly label: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
}

function toRecord(r: ApiKeyEntity): ApiKeyRecord {
  return {
    id: r.id,
    hash: r.hash,
    prefix: r.prefix,
    role: r.role === 'admin' ? 'admin' : 'user',
    ...(r.aor !== null && { aor: r.aor }),
    label: r.label,
    createdAt: r.createdAt,
    ...(r.expiresAt !== null && { expiresAt: r.expiresAt }),
  };
}

/** The only code that touches `api_keys`. */
@Injectable()
export class ApiKeyRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  async byHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.ds.getRepository(ApiKeyEntity).findOneBy({ hash });
    return row ? toRecord(row) : undefined;
  }

  async byId(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.ds.getRepository(ApiKeyEntity).findOneBy({ id });
    return row ? toRecord(row) : undefined;
  }

  /** Every key, oldest first. */
  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.ds.getRepository(ApiKeyEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(toRecord);
  }

  /** Whether an admin key exists that has not expired at `now`. */
  async hasAdmin(now: number): Promise<boolean> {
    const rows = await this.ds.getRepository(ApiKeyEntity).findBy({ role: 'admin' });
    return rows.some((r) => r.expiresAt === null || r.expiresAt > now);
  }

  async insert(k: ApiKeyRecord): Promise<void> {
    await this.commits.run(async (m) => {
      await m.insert(
        ApiKeyEntity,
        Object.assign(new ApiKeyEntity(), {
          id: k.id,
          hash: k.hash,
          prefix: k.prefix,
          role: k.role,
          aor: k.aor ?? null,
          label: k.label,
          createdAt: k.createdAt,
          expiresAt: k.expiresAt ?? null,
        }),
      );
    });
  }

  /** Removes a key; false when there was none. */
  async remove(id: string): Promise<boolean> {
    return this.commits.run(async (m) => {
      const r = await m.delete(ApiKeyEntity, { id });
      return (r.affected ?? 0) > 0;
    });
  }
}
