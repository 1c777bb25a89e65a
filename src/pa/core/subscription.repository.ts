import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { GroupCommit } from '../../database/group-commit';
import { Dialog, storedFlow, type DialogJSON, type Flow } from '../../sip';
import { SubscriptionEntity } from '../entities/subscription.entity';
import { acceptLists, shortValues } from './compact';
import type { EventParams } from './event-package';
import type { InternalSubscription, SipSubscription, SubscriptionStatus } from './subscription';

/**
 * The `dialog` column: the dialog without what the row's other columns hold (Call-ID, our tag, and the
 * addresses when they are just `<presentity>` and `<watcher>`), and the flow NOTIFYs go over; `sameFlow` when
 * the dialog's own flow is that one. Rows written before this form hold the whole dialog JSON, read alike.
 */
interface StoredDialog {
  readonly dialog: Partial<DialogJSON> &
    Pick<DialogJSON, 'remoteTag' | 'remoteTarget' | 'routeSet' | 'localSeq' | 'remoteSeq'>;
  readonly flow: Flow;
  readonly sameFlow?: true;
}

/**
 * The `dialog` column's JSON text ({@link StoredDialog}), written directly: the dialog's JSON form and a nested
 * object for JSON.stringify, with `<presentity>` and `<watcher>` built only to be compared, took about 2% of
 * the event loop under SUBSCRIBE load. Only strings go through JSON.stringify (escaping); the numbers are
 * integers.
 */
function storedDialog(s: SipSubscription): string {
  const d = s.dialog;
  const routes = d.routeSet.length === 0 ? '[]' : JSON.stringify(d.routeSet);
  let dialog = `{"remoteTag":${JSON.stringify(d.remoteTag)},"remoteTarget":${JSON.stringify(d.remoteTargetText)},"routeSet":${routes},"localSeq":${d.localSeq},"remoteSeq":${d.remoteSeq}`;
  if (!d.localIs(s.presentity)) dialog += `,"localUri":${JSON.stringify(d.localText)}`;
  // The watcher column keeps its first characters only (toEntity): a longer watcher keeps its own copy here.
  if (!d.remoteIs(s.watcher) || s.watcher.length > FIELD_LIMITS.watcher.max) {
    dialog += `,"remoteUri":${JSON.stringify(d.remoteText)}`;
  }
  const same = d.flow === s.flow;
  if (!same && d.flow !== undefined) dialog += `,"flow":${JSON.stringify(storedFlow(d.flow))}`;
  return `{"dialog":${dialog}},"flow":${JSON.stringify(storedFlow(s.flow))}${same ? ',"sameFlow":true' : ''}}`;
}

function dialogOf(r: RawSubscriptionRow, stored: StoredDialog): DialogJSON {
  const d = stored.dialog;
  return {
    ...d,
    callId: d.callId ?? r.call_id,
    localTag: d.localTag ?? r.local_tag,
    localUri: d.localUri ?? `<${r.presentity}>`,
    remoteUri: d.remoteUri ?? `<${r.watcher}>`,
    flow: stored.sameFlow === true ? stored.flow : d.flow,
  };
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
  return Object.assign(new SubscriptionEntity(), {
    id: s.id,
    kind: s.kind,
    owner: null,
    presentity: s.presentity,
    event: s.event,
    eventId: s.eventId ?? null,
    watcher: s.watcher.slice(0, FIELD_LIMITS.watcher.max),
    status: s.status,
    accept: s.accept.join(',').slice(0, FIELD_LIMITS.accept.max),
    callId: s.dialog.callId,
    localTag: s.dialog.localTag,
    dialog: storedDialog(s),
    eventParams: s.eventParams ? JSON.stringify(s.eventParams) : null,
    packageState: packageState === undefined ? null : JSON.stringify(packageState),
    cseqReserved: s.cseqReserved,
    remoteCseq: s.remoteCseq,
    expiresAt: s.expiresAt,
    createdAt: s.createdAt,
  });
}

/** The row of an internal watcher: no dialog, no CSeq; `owner` says whose handler gets its deliveries. */
function internalToEntity(s: InternalSubscription): SubscriptionEntity {
  return Object.assign(new SubscriptionEntity(), {
    id: s.id,
    kind: s.kind,
    owner: s.owner,
    presentity: s.presentity,
    event: s.event,
    eventId: null,
    watcher: s.watcher.slice(0, FIELD_LIMITS.watcher.max),
    status: s.status,
    accept: s.accept.join(',').slice(0, FIELD_LIMITS.accept.max),
    callId: '',
    localTag: '',
    dialog: '',
    eventParams: s.eventParams ? JSON.stringify(s.eventParams) : null,
    packageState: s.packageState === undefined ? null : JSON.stringify(s.packageState),
    cseqReserved: 0,
    remoteCseq: 0,
    expiresAt: s.expiresAt,
    createdAt: s.createdAt,
  });
}

/** A stored internal watcher, without its delivery handler (the owner's, attached when restored). */
export type StoredInternal = Omit<InternalSubscription, 'deliver'>;

interface RawInternalRow {
  id: string;
  owner: string | null;
  presentity: string;
  event: string;
  watcher: string;
  status: string;
  accept: string;
  event_params: string | null;
  package_state: string | null;
  expires_at: number | string;
  created_at: number | string;
}

const LOAD_INTERNAL =
  "SELECT id, owner, presentity, event, watcher, status, accept, event_params, package_state, expires_at, created_at FROM active_watchers WHERE kind = 'internal'";

const LOAD_SIP =
  'SELECT id, presentity, event, event_id, watcher, status, accept, call_id, local_tag, dialog, event_params, package_state, cseq_reserved, remote_cseq, expires_at, created_at FROM active_watchers WHERE kind = ?';

/** The better-sqlite3 database under the data source, or undefined on another driver. */
function sqliteConnection(
  ds: DataSource,
): { prepare(sql: string): { iterate(...params: unknown[]): Iterable<unknown> } } | undefined {
  if (ds.options.type !== 'better-sqlite3') return undefined;
  return (ds.driver as unknown as { databaseConnection: ReturnType<typeof sqliteConnection> }).databaseConnection;
}

/** A flow as stored, shared with every other subscription of the same load that came from the same source. */
function sharedFlow(flow: Flow, flows: Map<string, Flow>): Flow {
  const key = `${flow.protocol}|${flow.remoteAddress}|${flow.remotePort}|${flow.localAddress}|${flow.localPort}|${flow.connectionId ?? ''}`;
  const known = flows.get(key);
  if (known !== undefined) return known;
  flows.set(key, flow);
  return flow;
}

function fromRow(r: RawSubscriptionRow, flows: Map<string, Flow>): SipSubscription {
  const stored = JSON.parse(r.dialog) as StoredDialog;
  const dialog = Dialog.fromJSON(dialogOf(r, stored), { local: r.presentity, remote: r.watcher });
  const cseqReserved = Number(r.cseq_reserved);
  // Continue above every CSeq that may have been used before the restart (RFC 3261 §12.2.1.1).
  dialog.localSeq = Math.max(dialog.localSeq, cseqReserved);
  const flow = sharedFlow(stored.flow, flows);
  if (dialog.flow !== undefined) dialog.flow = sharedFlow(dialog.flow, flows);
  return {
    kind: 'sip',
    id: r.id,
    presentity: r.presentity,
    event: shortValues.intern(r.event),
    eventId: r.event_id ?? undefined,
    ...(r.event_params && { eventParams: Object.freeze(JSON.parse(r.event_params) as EventParams) }),
    ...(r.package_state !== null && { packageState: JSON.parse(r.package_state) as unknown }),
    watcher: r.watcher,
    status: shortValues.intern(r.status) as SubscriptionStatus,
    accept: acceptLists.intern(r.accept ? r.accept.split(',') : []),
    dialog,
    flow,
    remoteCseq: Number(r.remote_cseq),
    cseqReserved,
    notifyQueue: undefined,
    expiresAt: Number(r.expires_at),
    createdAt: Number(r.created_at),
  };
}

/** The only code that touches `active_watchers`; writes go through the group commit. */
@Injectable()
export class SubscriptionRepository {
  /** The package state each SIP subscription's committed row holds, as stored (JSON); none without one. */
  private readonly storedStates = new WeakMap<SipSubscription, string>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly commits: GroupCommit,
  ) {}

  /** Every stored SIP subscription (see {@link eachSip}). */
  async loadSip(): Promise<SipSubscription[]> {
    const out: SipSubscription[] = [];
    await this.eachSip((s) => out.push(s));
    return out;
  }

  /**
   * Hands every stored SIP subscription to `visit`, for the start; resolves with their number. Read as raw
   * rows rather than entities (TypeORM's hydration of 100,000 rows costs about half a second), and on SQLite
   * row by row, each converted as it is read: no array of 100,000 rows is alive at once for the collector to
   * copy. Flows read from the rows are shared between subscriptions from the same source.
   */
  async eachSip(visit: (s: SipSubscription) => void): Promise<number> {
    const flows = new Map<string, Flow>();
    const convert = (r: RawSubscriptionRow): void => {
      visit(fromRow(r, flows));
    };
    const sqlite = sqliteConnection(this.ds);
    if (sqlite !== undefined) {
      let n = 0;
      for (const r of sqlite.prepare(LOAD_SIP).iterate('sip') as Iterable<RawSubscriptionRow>) {
        convert(r);
        n++;
      }
      return n;
    }
    const rows = await this.ds.query<(RawSubscriptionRow | undefined)[]>(LOAD_SIP, ['sip']);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (r) convert(r);
      rows[i] = undefined; // let the row go as soon as it is converted
    }
    return rows.length;
  }

  /** Every stored internal watcher, for the start (few: one per module client, not per SIP dialog). */
  async loadInternal(): Promise<StoredInternal[]> {
    const rows = await this.ds.query<RawInternalRow[]>(LOAD_INTERNAL);
    return rows.map((r) => ({
      kind: 'internal',
      id: r.id,
      owner: r.owner ?? '',
      presentity: r.presentity,
      event: r.event,
      watcher: r.watcher,
      status: r.status as SubscriptionStatus,
      accept: acceptLists.intern(r.accept ? r.accept.split(',') : []),
      ...(r.event_params && { eventParams: Object.freeze(JSON.parse(r.event_params) as EventParams) }),
      ...(r.package_state !== null && { packageState: JSON.parse(r.package_state) as unknown }),
      expiresAt: Number(r.expires_at),
      createdAt: Number(r.created_at),
    }));
  }

  /** Stores an internal watcher (its handler is not stored: the owner registers it again at start). */
  async saveInternal(s: InternalSubscription): Promise<void> {
    await this.commits.upsert(SubscriptionEntity, s.id, internalToEntity(s));
  }

  /**
   * Stores a subscription; `packageState` when the one to store is not the subscription's current one (an
   * older one still to be notified, or the next one, stored ahead).
   */
  async save(s: SipSubscription, packageState: unknown = s.packageState): Promise<void> {
    const row = toEntity(s, packageState);
    await this.commits.upsert(SubscriptionEntity, s.id, row);
    this.committed(s, row.packageState);
  }

  /**
   * Stores what a NOTIFY of `s` needs committed before it goes out: the package state it reflects and the
   * reserved CSeq block, as an update of those two columns (the row is written whole by {@link save}).
   */
  async reserve(s: SipSubscription, packageState: unknown = s.packageState): Promise<void> {
    const stored = packageState === undefined ? null : JSON.stringify(packageState);
    await this.commits.patch(SubscriptionEntity, s.id, { packageState: stored, cseqReserved: s.cseqReserved });
    this.committed(s, stored);
  }

  /**
   * Notes the package state a write of `s` committed. Commits settle in the order the writes were queued, so
   * the last one to settle is what the row holds.
   */
  private committed(s: SipSubscription, packageState: string | null): void {
    if (packageState === null) this.storedStates.delete(s);
    else this.storedStates.set(s, packageState);
  }

  /** Whether the committed row of `s` holds `packageState` (a NOTIFY carrying it then needs no write first). */
  holds(s: SipSubscription, packageState: unknown): boolean {
    const stored = this.storedStates.get(s);
    return stored !== undefined && stored === JSON.stringify(packageState);
  }

  async remove(id: string): Promise<void> {
    await this.commits.delete(SubscriptionEntity, id);
  }
}
