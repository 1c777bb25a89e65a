import { Dialog } from '../dialog/dialog';
import type { SipRequest } from '../message/sip-message';
import {
  afterTermination,
  parseSubscriptionState,
  refreshDelay,
  type OutgoingRecord,
  type SubscriptionStateHeader,
} from './outgoing-record';
import { OutgoingEntries } from './outgoing-entries';
import { dialogFromNotify, inDialogSubscribe, initialRequest, type RequestParts } from './outgoing-requests';
import {
  errorAnswer,
  isFinal2xx,
  keyOf,
  type NotifyAnswer,
  type OutgoingEntry,
  type PublishInput,
  type SubscribeInput,
} from './outgoing-types';

/**
 * The outgoing SIP client (the `pua` role): publications (RFC 3903 §4: initial with body, refreshed before
 * expiry with SIP-If-Match, modified, re-sent as a new publication after 412, removed with Expires 0, 423
 * answered with Min-Expires) and subscriptions (RFC 6665 §4.1: dialog from the 2xx or from a NOTIFY that
 * comes first, refreshed in the dialog, re-created after 481 and after a termination that allows it),
 * answering digest challenges (401/407) and trying again after errors. Framework-free: requests go out
 * through `send`, records are kept through `store`, and in-dialog NOTIFYs are routed with {@link match}.
 */
export class OutgoingClient extends OutgoingEntries {
  /**
   * Takes over records saved before a restart and resumes them: refreshed, re-sent, or re-created; at once,
   * or spread over their `resumeSpread`.
   */
  restore(records: readonly OutgoingRecord[]): void {
    const now = this.o.clock.now();
    for (const rec of records) {
      const e = this.add(rec);
      if (rec.state === 'terminated') continue;
      if (rec.state === 'removing') {
        void this.run(e, () => this.remove(e));
      } else if (rec.state === 'retrying' && rec.retryAt > now) {
        this.schedule(e, rec.retryAt - now, () => this.resend(e));
      } else if ((rec.options.resumeSpread ?? 0) > 0) {
        const fraction = Number.parseInt(this.o.random.hex(4), 16) / 0x1_0000_0000;
        this.schedule(e, Math.floor(fraction * rec.options.resumeSpread! * 1000), () => this.resend(e));
      } else void this.run(e, () => this.resend(e));
    }
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
        // A publication that ran out at the server (e.g. while we were down) is published anew, not modified.
        await this.sendPublish(existing, this.held(rec) ? 'modify' : 'initial');
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
   * Ends a subscription: SUBSCRIBE Expires 0 in its dialog, then up to `waitForTermNotify` seconds (the
   * record's option, else the client's) for the terminating NOTIFY (handed to the owner like any other).
   * False when there is none.
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
    const arrived = this.o.clock.now();
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
    this.applyState(e, sub, arrived);
    await this.save(e);
    this.emit(e);
    return { status: 200, reason: 'OK' };
  }

  /** A NOTIFY's Subscription-State applied to its record; `arrived` is when the NOTIFY came in. */
  private applyState(e: OutgoingEntry, sub: SubscriptionStateHeader, arrived: number): void {
    const rec = e.rec;
    const now = this.o.clock.now();
    if (sub.state !== 'terminated') {
      if (rec.state === 'removing') return;
      rec.state = sub.state === 'pending' ? 'pending' : 'active';
      if (sub.expires === undefined) return;
      // The expiry counts from the NOTIFY's arrival, not from when the owner's handler finished with it (a
      // slow handler would push the refresh past the notifier's expiry). A NOTIFY may shorten what the last 2xx
      // granted (RFC 6665 §4.2.2), and its rounded seconds must not lengthen it: the earlier expiry stands.
      const until = arrived + sub.expires * 1000;
      if (e.timer !== undefined && rec.expiresAt > arrived && rec.expiresAt <= until) return;
      rec.expiresAt = until;
      const delay = Math.max(0, refreshDelay(sub.expires, rec.options) - (now - arrived));
      this.schedule(e, delay, () => this.sendSubscribe(e, 'refresh'));
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
        const wait = rec.options.waitForTermNotify ?? this.o.waitForTermNotify;
        this.schedule(e, wait * 1000, () => this.drop(e));
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

  /** Whether the server still holds the publication: it has an entity tag that has not run out. */
  private held(rec: OutgoingRecord): boolean {
    return rec.etag !== '' && rec.expiresAt > this.o.clock.now();
  }

  /** Sends what a restored record needs next. */
  private async resend(e: OutgoingEntry): Promise<void> {
    const rec = e.rec;
    if (rec.kind === 'publish') {
      if (this.held(rec)) {
        await this.sendPublish(e, 'refresh');
        return;
      }
      if (this.o.currentBody) {
        const body = await this.o.currentBody(rec);
        if (body === undefined) return;
        rec.body = body;
      }
      await this.sendPublish(e, 'initial');
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
}
