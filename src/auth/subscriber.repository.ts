import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GroupCommit } from '../database/group-commit';
import { ServerSecretEntity } from './entities/server-secret.entity';
import { SubscriberEntity } from './entities/subscriber.entity';
import type { Subscriber } from './subscriber';

function toSubscriber(r: SubscriberEntity): Subscriber {
  return {
    id: r.id,
    username: r.username,
    domain: r.domain,
    realm: r.realm,
    ha1Md5: r.ha1Md5,
    ha1Sha256: r.ha1Sha256,
    createdAt: r.createdAt,
    modifiedAt: r.modifiedAt,
  };
}

/** Whether a driver error is a unique-key violation (MySQL ER_DUP_ENTRY, SQLite SQLITE_CONSTRAINT_*). */
export function isDuplicateKey(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ER_DUP_ENTRY' || (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'));
}

/** The only code that touches `subscriber` and `server_secrets`. */
@Injectable()
export class SubscriberRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  async byUser(username: string, domain: string): Promise<Subscriber | undefined> {
    const row = await this.ds.getRepository(SubscriberEntity).findOneBy({ username, domain });
    return row ? toSubscriber(row) : undefined;
  }

  async byId(id: string): Promise<Subscriber | undefined> {
    const row = await this.ds.getRepository(SubscriberEntity).findOneBy({ id });
    return row ? toSubscriber(row) : undefined;
  }

  /** Subscribers of one domain, or all, by domain then username. */
  async list(domain?: string): Promise<Subscriber[]> {
    const rows = await this.ds.getRepository(SubscriberEntity).find({
      where: domain === undefined ? {} : { domain },
      order: { domain: 'ASC', username: 'ASC' },
    });
    return rows.map(toSubscriber);
  }

  /** Whether any subscriber exists. */
  async any(): Promise<boolean> {
    return (await this.ds.getRepository(SubscriberEntity).count({ take: 1 })) > 0;
  }

  /** Inserts a subscriber; a second one with the same username and domain fails with a duplicate key. */
  async insert(s: Subscriber): Promise<void> {
    await this.commits.run(async (m) => {
      await m.insert(SubscriberEntity, Object.assign(new SubscriberEntity(), s));
    });
  }

  async updateHa1(id: string, realm: string, ha1Md5: string, ha1Sha256: string, now: number): Promise<void> {
    await this.commits.run(async (m) => {
      await m.update(SubscriberEntity, { id }, { realm, ha1Md5, ha1Sha256, modifiedAt: now });
    });
  }

  async remove(id: string): Promise<void> {
    await this.commits.run(async (m) => {
      await m.delete(SubscriberEntity, { id });
    });
  }

  /**
   * The secret named `name`, created with `draw()` when there is none yet. Two instances starting together
   * both try to insert: the second insert fails and that instance reads the first one's value.
   */
  async secret(name: string, draw: () => string, now: number): Promise<string> {
    const repo = this.ds.getRepository(ServerSecretEntity);
    const found = await repo.findOneBy({ name });
    if (found) return found.value;
    try {
      await repo.insert({ name, value: draw(), createdAt: now });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const row = await repo.findOneByOrFail({ name });
    return row.value;
  }
}
