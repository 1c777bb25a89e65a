import { SipResponse, type SipRequest } from '../message/sip-message';
import { refreshDelay, type OutgoingKind, type OutgoingRecord } from './outgoing-record';
import { authorize } from './outgoing-requests';
import {
  keyOf,
  type NotifyHandler,
  type OutgoingClientOptions,
  type OutgoingEntry,
  type StatusListener,
  type SubscribeInput,
} from './outgoing-types';

/**
 * What the outgoing client's publications and subscriptions share: the records by key and Call-ID, one
 * operation of a record at a time, its timer, saving, status listeners, sending with digest answers, and the
 * handling of 423 and of failures. {@link OutgoingClient} adds the RFC 3903 and RFC 6665 behaviour.
 */
export abstract class OutgoingEntries {
  protected readonly byKey = new Map<string, OutgoingEntry>();
  protected readonly byCallId = new Map<string, OutgoingEntry>();
  protected readonly notifyHandlers = new Map<string, NotifyHandler>();
  protected readonly statusListeners = new Map<string, StatusListener[]>();
  protected stopped = false;

  constructor(protected readonly o: OutgoingClientOptions) {}

  /** Stops every timer (nothing is sent afterwards). */
  stop(): void {
    this.stopped = true;
    for (const e of this.byKey.values()) this.clearTimer(e);
  }

  onNotify(owner: string, handler: NotifyHandler): void {
    this.notifyHandlers.set(owner, handler);
  }

  onStatus(owner: string, listener: StatusListener): void {
    const list = this.statusListeners.get(owner) ?? [];
    list.push(listener);
    this.statusListeners.set(owner, list);
  }

  get(kind: OutgoingKind, owner: string, key: string): Readonly<OutgoingRecord> | undefined {
    const e = this.byKey.get(keyOf(kind, owner, key));
    return e && { ...e.rec };
  }

  list(kind: OutgoingKind, owner: string): Readonly<OutgoingRecord>[] {
    const out: OutgoingRecord[] = [];
    for (const e of this.byKey.values()) if (e.rec.kind === kind && e.rec.owner === owner) out.push({ ...e.rec });
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Sends what `build` makes; answers up to two digest challenges with a rebuilt request (next CSeq). */
  protected async exchange(
    rec: OutgoingRecord,
    build: () => SipRequest,
  ): Promise<{ req: SipRequest; res: SipResponse }> {
    let req = build();
    let res = await this.sendSafely(req);
    for (let i = 0; i < 2 && (res.status === 401 || res.status === 407); i++) {
      const next = build();
      if (!authorize(next, res, (realm) => this.o.credentials(realm, rec), this.o.random.hex(8))) break;
      req = next;
      res = await this.sendSafely(req);
    }
    return { req, res };
  }

  protected async sendSafely(req: SipRequest): Promise<SipResponse> {
    try {
      return await this.o.send(req);
    } catch (err) {
      return new SipResponse(503, `Service Unavailable (${(err as Error).message})`);
    }
  }

  /** A 2xx: the server's expiry, the refresh scheduled before it. */
  protected granted(e: OutgoingEntry, expires: number, res: SipResponse, refresh: () => Promise<void>): void {
    const rec = e.rec;
    if (rec.state !== 'pending' && rec.state !== 'active') rec.state = 'active';
    rec.expiresAt = this.o.clock.now() + expires * 1000;
    rec.retryAt = 0;
    rec.lastStatus = res.status;
    rec.lastReason = res.reason;
    this.schedule(e, refreshDelay(expires, rec.options), refresh);
  }

  /** 423 (RFC 3261 §21.4.17, RFC 3903 §4.1): ask again with the server's Min-Expires, when that helps. */
  protected minExpires(rec: OutgoingRecord, res: SipResponse): boolean {
    if (res.status !== 423) return false;
    const min = Number(res.headers.get('Min-Expires'));
    if (!Number.isInteger(min) || min <= rec.expires) return false;
    rec.expires = min;
    return true;
  }

  protected async failed(e: OutgoingEntry, res: SipResponse, retry: () => Promise<void>): Promise<void> {
    const rec = e.rec;
    const after = Number(res.headers.get('Retry-After')?.split(/[\s;(]/, 1)[0]);
    const wait = Number.isInteger(after) && after > 0 ? after : (rec.options.retryAfter ?? this.o.retryAfter);
    rec.state = 'retrying';
    rec.retryAt = this.o.clock.now() + wait * 1000;
    rec.lastStatus = res.status;
    rec.lastReason = res.reason;
    this.o.logger.warn(
      { owner: rec.owner, key: rec.key, status: res.status, retryIn: wait, callId: rec.callId },
      `${rec.kind} failed`,
    );
    this.schedule(e, wait * 1000, retry);
    await this.save(e);
    this.emit(e);
  }

  protected async drop(e: OutgoingEntry): Promise<void> {
    if (e.gone) return;
    e.gone = true;
    this.clearTimer(e);
    const key = keyOf(e.rec.kind, e.rec.owner, e.rec.key);
    // A new record under the same key may have taken the place of this one while it was being removed.
    if (this.byKey.get(key) === e) this.byKey.delete(key);
    if (this.byCallId.get(e.rec.callId) === e) this.byCallId.delete(e.rec.callId);
    e.rec.state = 'removing';
    try {
      // After stop the store may be closed; the record is removed when it is resumed and ends again.
      if (!this.stopped) await this.o.store.remove(e.rec.id);
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message, id: e.rec.id }, 'outgoing record could not be deleted');
    }
    this.emit(e);
  }

  protected newDialogIdentity(e: OutgoingEntry): void {
    const rec = e.rec;
    if (this.byCallId.get(rec.callId) === e) this.byCallId.delete(rec.callId);
    rec.callId = this.o.random.callId();
    rec.localTag = this.o.random.tag();
    rec.cseq = 0;
    rec.dialog = undefined;
    this.byCallId.set(rec.callId, e);
  }

  protected newRecord(kind: OutgoingKind, input: SubscribeInput): OutgoingRecord {
    const now = this.o.clock.now();
    return {
      id: this.o.random.hex(16),
      kind,
      owner: input.owner,
      key: input.key,
      uri: input.uri,
      from: input.from,
      event: input.event,
      route: input.route ?? '',
      expires: input.expires,
      contentType: '',
      body: '',
      etag: '',
      callId: this.o.random.callId(),
      localTag: this.o.random.tag(),
      cseq: 0,
      state: 'sending',
      expiresAt: 0,
      retryAt: 0,
      lastStatus: 0,
      lastReason: '',
      options: input.options ?? {},
      createdAt: now,
      updatedAt: now,
    };
  }

  protected add(rec: OutgoingRecord): OutgoingEntry {
    const e: OutgoingEntry = { rec, chain: Promise.resolve(), gone: false };
    this.byKey.set(keyOf(rec.kind, rec.owner, rec.key), e);
    this.byCallId.set(rec.callId, e);
    return e;
  }

  /** Runs `op` after the entry's previous operations (one request of a record at a time). */
  protected run(e: OutgoingEntry, op: () => Promise<void>): Promise<void> {
    const next = e.chain.then(op).catch((err: unknown) => {
      this.o.logger.error({ err: (err as Error).message, id: e.rec.id }, 'outgoing request failed');
    });
    e.chain = next;
    return next;
  }

  protected schedule(e: OutgoingEntry, ms: number, op: () => Promise<void>): void {
    this.clearTimer(e);
    if (this.stopped || e.gone) return;
    e.timer = this.o.clock.setTimeout(() => {
      e.timer = undefined;
      if (!e.gone && !this.stopped) void this.run(e, op);
    }, ms);
  }

  protected clearTimer(e: OutgoingEntry): void {
    if (e.timer !== undefined) this.o.clock.clearTimeout(e.timer);
    e.timer = undefined;
  }

  protected async save(e: OutgoingEntry): Promise<void> {
    // After stop the store may be closed; what was not saved is resumed from the last saved state.
    if (e.gone || this.stopped) return;
    e.rec.updatedAt = this.o.clock.now();
    try {
      await this.o.store.save(e.rec);
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message, id: e.rec.id }, 'outgoing record could not be saved');
    }
  }

  protected emit(e: OutgoingEntry): void {
    for (const l of this.statusListeners.get(e.rec.owner) ?? []) {
      try {
        l({ ...e.rec });
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'status listener failed');
      }
    }
  }
}
