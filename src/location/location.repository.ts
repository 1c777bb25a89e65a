import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { rethrowDatabaseError } from '../database/database-errors';
import { GroupCommit } from '../database/group-commit';
import type { TransportProtocol } from '../sip';
import type { Binding, ContactParam } from './binding';
import { AorAttributeEntity } from './entities/aor-attribute.entity';
import { ContactEntity } from './entities/contact.entity';

function toEntity(b: Binding): ContactEntity {
  const e = new ContactEntity();
  e.id = b.id;
  e.domain = b.domain;
  e.aor = b.aor;
  e.contact = b.uri;
  e.contactParams =
    b.displayName === undefined && b.params === undefined
      ? null
      : JSON.stringify({ name: b.displayName, params: b.params });
  e.expiresAt = b.expiresAt;
  e.q = b.q === undefined ? null : Math.round(b.q * 1000);
  e.callId = b.callId;
  e.cseq = b.cseq;
  e.instance = b.instance ?? null;
  e.regId = b.regId ?? null;
  e.path = b.path.length ? JSON.stringify(b.path) : null;
  e.userAgent = b.userAgent;
  e.sourceProto = b.source.protocol;
  e.sourceIp = b.source.remoteAddress;
  e.sourcePort = b.source.remotePort;
  e.localIp = b.source.localAddress;
  e.localPort = b.source.localPort;
  e.connectionId = b.source.connectionId ?? null;
  e.origin = b.origin ?? null;
  e.createdAt = b.createdAt;
  e.updatedAt = b.updatedAt;
  return e;
}

function toBinding(e: ContactEntity): Binding {
  const extra = e.contactParams
    ? (JSON.parse(e.contactParams) as { name?: string; params?: ContactParam[] })
    : undefined;
  return {
    id: e.id,
    domain: e.domain,
    aor: e.aor,
    uri: e.contact,
    ...(extra?.name !== undefined && { displayName: extra.name }),
    ...(extra?.params !== undefined && { params: extra.params }),
    expiresAt: e.expiresAt,
    q: e.q === null ? undefined : e.q / 1000,
    callId: e.callId,
    cseq: e.cseq,
    instance: e.instance ?? undefined,
    regId: e.regId ?? undefined,
    path: e.path ? (JSON.parse(e.path) as string[]) : [],
    userAgent: e.userAgent,
    ...(e.origin !== null && { origin: e.origin }),
    source: {
      protocol: e.sourceProto as TransportProtocol,
      remoteAddress: e.sourceIp,
      remotePort: e.sourcePort,
      localAddress: e.localIp,
      localPort: e.localPort,
      connectionId: e.connectionId ?? undefined,
    },
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** The columns of `row` whose values differ from `old`'s. */
function changedColumns(old: ContactEntity, row: ContactEntity): Partial<ContactEntity> {
  const out: Partial<Record<keyof ContactEntity, unknown>> = {};
  for (const key of Object.keys(row) as (keyof ContactEntity)[]) if (row[key] !== old[key]) out[key] = row[key];
  return out as Partial<ContactEntity>;
}

/** The only code that touches the location tables. Writes go through the group commit. */
@Injectable()
export class LocationRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  async loadAll(): Promise<Binding[]> {
    const rows = await this.ds.getRepository(ContactEntity).find();
    return rows.map(toBinding);
  }

  /**
   * Saves and deletes bindings in one committed transaction. A binding that replaces one of `before` with its
   * id (a refresh) writes only the columns that changed (expiry, CSeq, time of update as a rule).
   */
  async apply(
    upserts: readonly Binding[],
    deleteIds: readonly string[],
    before: readonly Binding[] = [],
  ): Promise<void> {
    // Queued together, so they share one group transaction.
    await Promise.all([
      ...deleteIds.map((id) => this.commits.delete(ContactEntity, id)),
      ...upserts.map((b) => {
        const old = before.find((x) => x.id === b.id);
        const row = toEntity(b);
        if (old === undefined) return this.commits.upsert(ContactEntity, b.id, row);
        const changed = changedColumns(toEntity(old), row);
        return Object.keys(changed).length > 0 ? this.commits.patch(ContactEntity, b.id, changed) : undefined;
      }),
    ]);
  }

  async getAttribute(domain: string, aor: string, key: string): Promise<string | undefined> {
    const row = await this.ds
      .getRepository(AorAttributeEntity)
      .findOneBy({ domain, aor, key })
      .catch(rethrowDatabaseError);
    return row?.value;
  }

  async listAttributes(domain: string, aor: string): Promise<Record<string, string>> {
    const rows = await this.ds.getRepository(AorAttributeEntity).findBy({ domain, aor }).catch(rethrowDatabaseError);
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async setAttribute(domain: string, aor: string, key: string, value: string, now: number): Promise<void> {
    await this.commits.run(async (m) => {
      await m.save(AorAttributeEntity, { domain, aor, key, value, updatedAt: now }, { reload: false });
    });
  }

  async deleteAttribute(domain: string, aor: string, key: string): Promise<boolean> {
    return this.commits.run(async (m) => {
      const r = await m.delete(AorAttributeEntity, { domain, aor, key });
      return (r.affected ?? 0) > 0;
    });
  }
}
