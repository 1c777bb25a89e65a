import type { ClientCredentials } from '../auth/digest-client';
import { Dialog } from '../dialog/dialog';
import { SipResponse, type SipRequest } from '../message/sip-message';
import type { Clock, TimerHandle } from '../ports/clock';
import type { SipLogger } from '../ports/logger';
import type { Random } from '../ports/random';
import {
  afterTermination,
  parseSubscriptionState,
  refreshDelay,
  type OutgoingKind,
  type OutgoingOptions,
  type OutgoingRecord,
  type OutgoingStore,
  type SubscriptionStateHeader,
} from './outgoing-record';
import { authorize, dialogFromNotify, inDialogSubscribe, initialRequest, type RequestParts } from './outgoing-requests';

/** What the outgoing client needs from its host. */
export interface OutgoingClientOptions {
  /** Sends a request in a new non-INVITE client transaction; resolves with the final response. */
  send(req: SipRequest): Promise<SipResponse>;
  /** Our Contact for SUBSCRIBE (where NOTIFYs come). */
  contact(): string;
  store: OutgoingStore;
  clock: Clock;
  random: Random;
  logger: SipLogger;
  /** Credentials for a challenge's realm (RFC 3261 §22.2); undefined: the challenge is not answered. */
  credentials(realm: string, record: Readonly<OutgoingRecord>): ClientCredentials | undefined;
  /** Seconds before another attempt after an error or time-out, unless the record says otherwise. */
  retryAfter: number;
  /** Seconds an unsubscribe waits for the terminating NOTIFY (RFC 6665 §4.1.2.3) before forgetting the dialog. */
  waitForTermNotify: number;
}

/** A PUBLISH to keep at a server (RFC 3903). */
export interface PublishInput {
  readonly owner: string;
  readonly key: string;
  /** The presentity: Request-URI and To. */
  readonly uri: string;
  /** From; default `uri`. */
  readonly from?: string;
  readonly event: string;
  readonly contentType: string;
  readonly body: string;
  readonly expires: number;
  /** Outbound proxy URI; default none (the Request-URI's host and port). */
  readonly route?: string;
  readonly options?: OutgoingOptions;
}

/** A subscription to hold at a notifier (RFC 6665). */
export interface SubscribeInput {
  readonly owner: string;
  readonly key: string;
  /** The resource: Request-URI and To. */
  readonly uri: string;
  /** The subscriber: From. */
  readonly from: string;
  readonly event: string;
  readonly expires: number;
  readonly route?: string;
  readonly options?: OutgoingOptions;
}

/** A NOTIFY received in one of our subscriptions, as its owner sees it. */
export interface ClientNotify {
  readonly record: Readonly<OutgoingRecord>;
  readonly request: SipRequest;
  readonly subscriptionState: SubscriptionStateHeader;
  readonly contentType: string | undefined;
  readonly body: string;
}

/**
 * Takes a NOTIFY's content. Resolving means applied (the NOTIFY gets 200); throwing an error with a SIP
 * `status` and `reason` (SipError, or a domain error the caller maps) answers with that status instead.
 */
export type NotifyHandler = (notify: ClientNotify) => void | Promise<void>;

/** Told of every change of state of its owner's records (the last one has state `removing` and is gone). */
export type StatusListener = (record: Readonly<OutgoingRecord>) => void;

/** A SIP answer to a NOTIFY. */
export interface NotifyAnswer {
  readonly status: number;
  readonly reason: string;
}

export interface OutgoingEntry {
  readonly rec: OutgoingRecord;
  timer?: TimerHandle;
  chain: Promise<void>;
  gone: boolean;
}

const isFinal2xx = (s: number): boolean => s >= 200 && s < 300;

function errorAnswer(e: unknown): NotifyAnswer | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { status, reason } = e as { status?: unknown; reason?: unknown };
  if (typeof status === 'number' && status >= 300 && status < 700 && typeof reason === 'string') {
    return { status, reason };
  }
  return undefined;
}

/**
 * The outgoing SIP client (the `pua` role): publications (RFC 3903 §4: initial with body, refreshed before
 * expiry with SIP-If-Match, modified, re-sent as a new publication after 412, removed with Expires 0, 423
 * answered with Min-Expires) and subscriptions (RFC 6665 §4.1: dialog from the 2xx or from a NOTIFY that
 * comes first, refreshed in the dialog, re-created after 481 and after a termination that allows it),
 * answering digest challenges (401/407) and trying again after errors. Framework-free: requests go out
 * through `send`, records are kept through `store`, and in-dialog NOTIFYs are routed with {@link match}.
 */
export class OutgoingClient {
  private readonly byKey = new Map<string, OutgoingEntry>();
  private readonly byCallId = new Map<string, OutgoingEntry>();
  private readonly notifyHandlers = new Map<string, NotifyHandler>();
  private readonly statusListeners = new Map<string, StatusListener[]>();
  private stopped = false;

  constructor(private readonly o: OutgoingClientOptions) {}

  /** Takes over records saved before a restart and resumes them: refreshed, re-sent, or re-created. */
  restore(records: readonly OutgoingRecord[]): void {
    const now = this.o.clock.now();
    for (const rec of records) {
      const e = this.add(rec);
      if (rec.state === 'terminated') continue;
      if (rec.state === 'removing') {
        void this.run(e, () => this.remove(e));
      } else if (rec.state === 'retrying' && rec.retryAt > now) {
        this.schedule(e, rec.retryAt - now, () => this.resend(e));
      } else void this.run(e, () => this.resend(e));
    }
  }

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

  /**
   * Publishes `input.body` (a new publication, or a modification of the one under `owner` and `key`) and
   * resolves with the record once the server answered (see its `state` and `lastStatus`).
   */
  async publish(input: PublishInput): Promise<Readonly<OutgoingRecord>> {
    const existing = this.byKey.get(keyOf('publish', input.owner, input.key));
    if (existing && existing.rec.state !== 'removing') {
      await this.run(existing, async () => {
        const rec = existing.rec;
        rec.body = input.body;
        rec.contentType = input.contentType;
        rec.expires = input.expires;
        await this.sendPublish(existing, rec.etag ? 'modify' : 'initial');
      });
      return { ...existing.rec };
    }
    const e = this.add(this.newRecord('publish', { ...input, from: input.from ?? input.uri }));
    e.rec.contentType = input.contentType;
    e.rec.body = input.body;
    await this.run(e, async () => {
      await this.save(e);
      await this.sendPublish(e, 'initial');
    });
    return { ...e.rec };
  }

  /** Removes a publication (PUBLISH Expires 0 with its entity tag); false when there is none. */
  async unpublish(owner: string, key: string): Promise<boolean> {
    const e = this.byKey.get(keyOf('publish', owner, key));
    if (!e) return false;
    await this.run(e, () => this.remove(e));
    return true;
  }

  /** Starts a subscription (or refreshes the one under `owner` and `key` with the new expiry). */
  async subscribe(input: SubscribeInput): Promise<Readonly<OutgoingRecord>> {
    const existing = this.byKey.get(keyOf('subscribe', input.owner, input.key));
    if (existing && existing.rec.state !== 'removing') {
      await this.run(existing, async () => {
        existing.rec.expires = input.expires;
        if (existing.rec.state === 'terminated') this.newDialogIdentity(existing);
        await this.sendSubscribe(existing, existing.rec.dialog ? 'refresh' : 'initial');
      });
      return { ...existing.rec };
    }
    const e = this.add(this.newRecord('subscribe', input));
    await this.run(e, async () => {
      await this.save(e);
      await this.sendSubscribe(e, 'initial');
    });
    return { ...e.rec };
  }

  /**
   * Ends a subscription: SUBSCRIBE Expires 0 in its dialog, then up to `waitForTermNotify` seconds for the
   * terminating NOTIFY (handed to the owner like any other). False when there is none.
   */
  async unsubscribe(owner: string, key: string): Promise<boolean> {
    const e = this.byKey.get(keyOf('subscribe', owner, key));
    if (!e) return false;
    await this.run(e, () => this.remove(e));
    return true;
  }

  /**
   * The subscription an in-dialog request belongs to (RFC 3261 §12.2.2: Call-ID and tags; the To tag is
   * our From tag), for NOTIFYs only; undefined when it is none of ours.
   */
  match(req: SipRequest): OutgoingEntry | undefined {
    if (req.method !== 'NOTIFY') return undefined;
    const e = this.byCallId.get(req.callId);
    if (!e || e.gone || e.rec.kind !== 'subscribe' || req.to.tag !== e.rec.localTag) return undefined;
    return e;
  }

  /**
   * The publication a PUBLISH belongs to when it is one we sent (same Call-ID and From tag) that came back to
   * us, e.g. through an outbound proxy that is this server.
   */
  ownPublication(req: SipRequest): Readonly<OutgoingRecord> | undefined {
    if (req.method !== 'PUBLISH') return undefined;
    const e = this.byCallId.get(req.callId);
    if (!e || e.gone || e.rec.kind !== 'publish' || req.from.tag !== e.rec.localTag) return undefined;
    return e.rec;
  }

  /** Handles a NOTIFY that {@link match} found (RFC 6665 §4.1.3) and says how to answer it. */
  async notify(e: OutgoingEntry, req: SipRequest): Promise<NotifyAnswer> {
    const rec = e.rec;
    const sub = parseSubscriptionState(req.headers.get('Subscription-State'));
    if (!sub) return { status: 400, reason: 'Bad Request (Subscription-State missing)' };
    if (req.event?.package !== rec.event) return { status: 489, reason: 'Bad Event' };
    let dialog: Dialog;
    if (rec.dialog) {
      if (req.from.tag !== rec.dialog.remoteTag) return { status: 481, reason: 'Subscription Does Not Exist' };
      if (req.cseq.seq <= rec.dialog.remoteSeq)
        return { status: 500, reason: 'Server Internal Error (CSeq out of order)' };
      dialog = Dialog.fromJSON(rec.dialog);
    } else dialog = dialogFromNotify(rec, req); // RFC 6665 §4.1.2.4: the NOTIFY came before the 2xx
    dialog.remoteSeq = req.cseq.seq;
    rec.dialog = dialog.toJSON();
    const handler = this.notifyHandlers.get(rec.owner);
    if (handler) {
      try {
        await handler({
          record: { ...rec },
          request: req,
          subscriptionState: sub,
          contentType: req.contentType,
          body: req.body.toString('utf8'),
        });
      } catch (err) {
        const answer = errorAnswer(err);
        if (answer) return answer;
        this.o.logger.error({ err: (err as Error).message, callId: req.callId }, 'NOTIFY handler failed');
        return { status: 500, reason: 'Server Internal Error' };
      }
    }
    this.applyState(e, sub);
    await this.save(e);
    this.emit(e);
    return { status: 200, reason: 'OK' };
  }

  private applyState(e: OutgoingEntry, sub: SubscriptionStateHeader): void {
    const rec = e.rec;
    const now = this.o.clock.now();
    if (sub.state !== 'terminated') {
      if (rec.state === 'removing') return;
      rec.state = sub.state === 'pending' ? 'pending' : 'active';
      if (sub.expires !== undefined) {
        rec.expiresAt = now + sub.expires * 1000;
        this.schedule(e, refreshDelay(sub.expires, rec.options), () => this.sendSubscribe(e, 'refresh'));
      }
      return;
    }
    rec.lastReason = `terminated${sub.reason ? `;reason=${sub.reason}` : ''}`;
    if (rec.state === 'removing') {
      this.schedule(e, 0, () => this.drop(e));
      return;
    }
    this.newDialogIdentity(e);
    rec.expiresAt = 0;
    switch (afterTermination(sub.reason, sub.retryAfter)) {
      case 'never':
        rec.state = 'terminated';
        this.clearTimer(e);
        return;
      case 'later': {
        const wait = sub.retryAfter ?? rec.options.retryAfter ?? this.o.retryAfter;
        rec.state = 'retrying';
        rec.retryAt = now + wait * 1000;
        this.schedule(e, wait * 1000, () => this.sendSubscribe(e, 'initial'));
        return;
      }
      case 'now':
        rec.state = 'sending';
        this.schedule(e, 0, () => this.sendSubscribe(e, 'initial'));
        return;
    }
  }

  private async sendPublish(e: OutgoingEntry, mode: 'initial' | 'refresh' | 'modify' | 'remove'): Promise<void> {
    const rec = e.rec;
    const expires = mode === 'remove' ? 0 : rec.expires;
    const parts: RequestParts = {
      expires,
      withBody: mode === 'initial' || mode === 'modify' || (mode === 'refresh' && !rec.etag),
      ...(mode !== 'initial' && rec.etag && { ifMatch: rec.etag }),
    };
    const { res } = await this.exchange(rec, () => initialRequest('PUBLISH', rec, parts));
    if (mode === 'remove') return;
    if (isFinal2xx(res.status)) {
      rec.etag = res.headers.get('SIP-ETag') ?? rec.etag;
      this.granted(e, res.expires ?? expires, res, () => this.sendPublish(e, 'refresh'));
      await this.save(e);
      this.emit(e);
      return;
    }
    if (mode !== 'initial' && (res.status === 412 || (res.status === 500 && rec.etag !== ''))) {
      // RFC 3903 §4.4: the server lost the publication; publish anew with the whole state. (Kamailio's
      // presence answers an unknown SIP-If-Match with 500 instead of 412.)
      rec.etag = '';
      await this.sendPublish(e, 'initial');
      return;
    }
    if (this.minExpires(rec, res)) {
      await this.sendPublish(e, mode);
      return;
    }
    await this.failed(e, res, () => this.sendPublish(e, rec.etag ? 'modify' : 'initial'));
  }

  private async sendSubscribe(e: OutgoingEntry, mode: 'initial' | 'refresh' | 'remove'): Promise<void> {
    const rec = e.rec;
    const expires = mode === 'remove' ? 0 : rec.expires;
    const parts: RequestParts = { expires, contact: rec.options.contact ?? this.o.contact() };
    const inDialog = mode !== 'initial' && rec.dialog !== undefined;
    if (mode === 'initial' && rec.dialog) this.newDialogIdentity(e);
    const { req, res } = await this.exchange(rec, () =>
      inDialog ? inDialogSubscribe(rec, Dialog.fromJSON(rec.dialog!), parts) : initialRequest('SUBSCRIBE', rec, parts),
    );
    if (e.gone) return;
    if (isFinal2xx(res.status)) {
      if (mode === 'remove') {
        // RFC 6665 §4.1.2.3: the notifier sends a terminating NOTIFY; wait a while for it.
        this.schedule(e, this.o.waitForTermNotify * 1000, () => this.drop(e));
        return;
      }
      if (!rec.dialog && res.to.tag !== undefined) {
        try {
          rec.dialog = Dialog.fromResponse(req, res).toJSON();
        } catch (err) {
          this.o.logger.warn(
            { err: (err as Error).message, callId: rec.callId },
            'SUBSCRIBE 2xx without a usable Contact',
          );
        }
      }
      if (rec.state === 'sending' || rec.state === 'retrying') rec.state = res.status === 202 ? 'pending' : 'active';
      this.granted(e, res.expires ?? expires, res, () => this.sendSubscribe(e, 'refresh'));
      await this.save(e);
      this.emit(e);
      return;
    }
    if (mode === 'remove') {
      await this.drop(e);
      return;
    }
    if (inDialog && (res.status === 481 || res.status === 408)) {
      // RFC 6665 §4.1.2.2: the dialog is gone at the notifier; subscribe anew.
      await this.sendSubscribe(e, 'initial');
      return;
    }
    if (this.minExpires(rec, res)) {
      await this.sendSubscribe(e, mode);
      return;
    }
    await this.failed(e, res, () => this.sendSubscribe(e, rec.dialog ? 'refresh' : 'initial'));
  }

  /** Sends what `build` makes; answers up to two digest challenges with a rebuilt request (next CSeq). */
  private async exchange(rec: OutgoingRecord, build: () => SipRequest): Promise<{ req: SipRequest; res: SipResponse }> {
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

  private async sendSafely(req: SipRequest): Promise<SipResponse> {
    try {
      return await this.o.send(req);
    } catch (err) {
      return new SipResponse(503, `Service Unavailable (${(err as Error).message})`);
    }
  }

  /** A 2xx: the server's expiry, the refresh scheduled before it. */
  private granted(e: OutgoingEntry, expires: number, res: SipResponse, refresh: () => Promise<void>): void {
    const rec = e.rec;
    if (rec.state !== 'pending' && rec.state !== 'active') rec.state = 'active';
    rec.expiresAt = this.o.clock.now() + expires * 1000;
    rec.retryAt = 0;
    rec.lastStatus = res.status;
    rec.lastReason = res.reason;
    this.schedule(e, refreshDelay(expires, rec.options), refresh);
  }

  /** 423 (RFC 3261 §21.4.17, RFC 3903 §4.1): ask again with the server's Min-Expires, when that helps. */
  private minExpires(rec: OutgoingRecord, res: SipResponse): boolean {
    if (res.status !== 423) return false;
    const min = Number(res.headers.get('Min-Expires'));
    if (!Number.isInteger(min) || min <= rec.expires) return false;
    rec.expires = min;
    return true;
  }

  private async failed(e: OutgoingEntry, res: SipResponse, retry: () => Promise<void>): Promise<void> {
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

  /** Sends what a restored record needs next. */
  private async resend(e: OutgoingEntry): Promise<void> {
    const rec = e.rec;
    if (rec.kind === 'publish') {
      await this.sendPublish(e, rec.etag && rec.expiresAt > this.o.clock.now() ? 'refresh' : 'initial');
      return;
    }
    await this.sendSubscribe(e, rec.dialog && rec.expiresAt > this.o.clock.now() ? 'refresh' : 'initial');
  }

  private async remove(e: OutgoingEntry): Promise<void> {
    const rec = e.rec;
    if (e.gone) return;
    this.clearTimer(e);
    rec.state = 'removing';
    await this.save(e);
    if (rec.kind === 'publish') {
      if (rec.etag) await this.sendPublish(e, 'remove');
      await this.drop(e);
      return;
    }
    if (rec.dialog) await this.sendSubscribe(e, 'remove');
    else await this.drop(e);
  }

  private async drop(e: OutgoingEntry): Promise<void> {
    if (e.gone) return;
    e.gone = true;
    this.clearTimer(e);
    this.byKey.delete(keyOf(e.rec.kind, e.rec.owner, e.rec.key));
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

  private newDialogIdentity(e: OutgoingEntry): void {
    const rec = e.rec;
    if (this.byCallId.get(rec.callId) === e) this.byCallId.delete(rec.callId);
    rec.callId = this.o.random.callId();
    rec.localTag = this.o.random.tag();
    rec.cseq = 0;
    rec.dialog = undefined;
    this.byCallId.set(rec.callId, e);
  }

  private newRecord(kind: OutgoingKind, input: SubscribeInput): OutgoingRecord {
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

  private add(rec: OutgoingRecord): OutgoingEntry {
    const e: OutgoingEntry = { rec, chain: Promise.resolve(), gone: false };
    this.byKey.set(keyOf(rec.kind, rec.owner, rec.key), e);
    this.byCallId.set(rec.callId, e);
    return e;
  }

  /** Runs `op` after the entry's previous operations (one request of a record at a time). */
  private run(e: OutgoingEntry, op: () => Promise<void>): Promise<void> {
    const next = e.chain.then(op).catch((err: unknown) => {
      this.o.logger.error({ err: (err as Error).message, id: e.rec.id }, 'outgoing request failed');
    });
    e.chain = next;
    return next;
  }

  private schedule(e: OutgoingEntry, ms: number, op: () => Promise<void>): void {
    this.clearTimer(e);
    if (this.stopped || e.gone) return;
    e.timer = this.o.clock.setTimeout(() => {
      e.timer = undefined;
      if (!e.gone && !this.stopped) void this.run(e, op);
    }, ms);
  }

  private clearTimer(e: OutgoingEntry): void {
    if (e.timer !== undefined) this.o.clock.clearTimeout(e.timer);
    e.timer = undefined;
  }

  private async save(e: OutgoingEntry): Promise<void> {
    // After stop the store may be closed; what was not saved is resumed from the last saved state.
    if (e.gone || this.stopped) return;
    e.rec.updatedAt = this.o.clock.now();
    try {
      await this.o.store.save(e.rec);
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message, id: e.rec.id }, 'outgoing record could not be saved');
    }
  }

  private emit(e: OutgoingEntry): void {
    for (const l of this.statusListeners.get(e.rec.owner) ?? []) {
      try {
        l({ ...e.rec });
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'status listener failed');
      }
    }
  }
}

function keyOf(kind: OutgoingKind, owner: string, key: string): string {
  return `${kind}\u0000${owner}\u0000${key}`;
}
