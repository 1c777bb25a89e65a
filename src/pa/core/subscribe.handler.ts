import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { checkLength } from '../../common/field-limits';
import { timeOrderedId } from '../../common/ids';
import { CLOCK, RANDOM } from '../../common/ports.module';
import { Dialog, ownString, SipError, type Clock, type IncomingRequest, type Random } from '../../sip';
import { SipBridge } from '../../sip-bridge/sip-bridge.service';
import { acceptTypes, canAccept } from './accept';
import { acceptLists } from './compact';
import { eventParamsOf } from './event-params';
import type { EventPackage, EventParams } from './event-package';
import { EventPackageRegistry } from './event-package.registry';
import { grantExpires } from './expires';
import { Notifier } from './notifier.service';
import { CSEQ_BLOCK, type SipSubscription } from './subscription';
import { SubscriptionRegistry } from './subscription.registry';
import { SubscriptionService } from './subscription.service';
import { WatcherGate } from './watcher-gate';
import { watcherIdentity } from './watcher-identity';

const NO_PARAMS: EventParams = Object.freeze({});

/**
 * SUBSCRIBE (RFC 6665 §4.2.1) for every registered event package: creates the dialog and the
 * subscription, refreshes or ends it in-dialog, and answers before the first NOTIFY goes out.
 */
@Injectable()
export class SubscribeHandler implements OnModuleInit {
  constructor(
    private readonly bridge: SipBridge,
    private readonly packages: EventPackageRegistry,
    private readonly registry: SubscriptionRegistry,
    private readonly subscriptions: SubscriptionService,
    private readonly notifier: Notifier,
    private readonly gate: WatcherGate,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) private readonly random: Random,
  ) {}

  onModuleInit(): void {
    this.packages.onAdd((pkg) => {
      this.bridge.register('SUBSCRIBE', (req) => this.handle(pkg, req), pkg.name);
      this.bridge.addAccept(...pkg.notifyContentTypes.filter((t) => t !== '*/*'));
    });
    // A connection that SIP watchers' NOTIFYs go over is kept open however long it stays silent.
    this.bridge.addConnectionPin((id) => this.registry.usesConnection(id));
  }

  async handle(pkg: EventPackage, req: IncomingRequest): Promise<void> {
    if (req.request.to.tag) return this.inDialog(pkg, req);
    return this.create(pkg, req);
  }

  private async create(pkg: EventPackage, req: IncomingRequest): Promise<void> {
    const r = req.request;
    const expires = grantExpires(r.expires, pkg.subscribeExpires);
    const accept = acceptTypes(r.headers.getAll('accept'));
    if (!canAccept(accept, pkg.notifyContentTypes)) {
      throw new SipError(406, 'Not Acceptable', { Accept: pkg.notifyContentTypes.join(', ') });
    }
    const contacts = r.contacts();
    if (contacts === '*' || contacts.length !== 1) throw new SipError(400, 'Bad Contact header (one Contact required)');
    if (!r.uri.isSip || !r.uri.user) throw new SipError(404, 'Not Found (no presentity in Request-URI)');
    const aor = r.uri.aor();
    checkLength('aor', aor, 'Request-URI');
    const presentity = this.registry.held(aor, pkg.name) ?? ownString(aor);
    checkLength('callId', r.callId, 'Call-ID');
    checkLength('eventId', r.event?.id, 'Event');
    checkLength('contactUri', contacts[0].uri.toString(), 'Contact');
    const watcher = watcherIdentity(req);
    const eventParams = eventParamsOf(r.event?.params);
    if (eventParams) checkLength('eventParams', JSON.stringify(eventParams), 'Event');
    pkg.validateEventParams?.(eventParams ?? NO_PARAMS);
    const view = { kind: 'sip' as const, uri: watcher, accept, ...(eventParams && { eventParams }) };
    const own = pkg.authorize?.(view, presentity) ?? 'active';
    if (own === 'terminated') throw new SipError(403, 'Forbidden');
    if (pkg.admit) pkg.admit(await this.notifier.state(presentity, pkg.name), view);
    // The presentity's watcher rules (RFC 3856 §6.6.2); a polite-blocked watcher is admitted as active and
    // shown a neutral state by the notifier.
    const verdict = await this.gate.authorize(watcher, presentity, pkg.name);
    if (verdict === 'rejected') throw new SipError(403, 'Forbidden (not authorized to watch this presentity)');
    const status = own === 'pending' || verdict === 'pending' ? 'pending' : 'active';
    const now = this.clock.now();
    // The tag every response to this request carries (the request has none): the dialog's local tag.
    const localTag = req.toTag;
    // The dialog keeps no copy of To and From when they are just <presentity> and <watcher>.
    const dialog = Dialog.fromRequest(r, localTag, req.flow, { local: presentity, remote: watcher });
    const sub: SipSubscription = {
      kind: 'sip',
      id: timeOrderedId(now, this.random),
      presentity,
      event: pkg.name,
      eventId: r.event?.id === undefined ? undefined : ownString(r.event.id),
      ...(eventParams && { eventParams }),
      watcher,
      accept: acceptLists.intern(accept),
      status,
      expiresAt: now + expires * 1000,
      createdAt: now,
      dialog,
      flow: req.flow,
      remoteCseq: r.cseq.seq,
      // The first block of NOTIFY CSeq numbers is reserved in the same write that creates the subscription.
      cseqReserved: dialog.localSeq + CSEQ_BLOCK,
      notifyQueue: undefined,
    };
    if (expires > 0) await this.subscriptions.add(sub);
    // 202: the subscription exists but waits for authorization (RFC 3265 §3.1.6.1; RFC 6665 §4.2.1.1 lets a
    // notifier still use it, and the NOTIFY that follows says pending).
    this.answer(req, localTag, expires, r.recordRoute, status === 'pending' ? 202 : 200);
    // A fetch (Expires: 0, RFC 6665 §4.4.3) gets the state in one NOTIFY that also ends it.
    if (expires === 0) await this.notifier.terminate(sub, 'timeout');
    else await this.notifier.notifyOne(sub);
  }

  private async inDialog(pkg: EventPackage, req: IncomingRequest): Promise<void> {
    const r = req.request;
    const sub = this.registry.byDialogId(r.callId, r.to.tag ?? '');
    if (!sub || sub.event !== pkg.name || sub.dialog.remoteTag !== r.from.tag) {
      throw new SipError(481, 'Subscription Does Not Exist');
    }
    if (r.cseq.seq <= sub.remoteCseq) throw new SipError(500, 'Out of order CSeq', { 'Retry-After': '1' });
    const expires = grantExpires(r.expires, pkg.subscribeExpires);
    sub.remoteCseq = r.cseq.seq;
    if (expires === 0) {
      this.answer(req, sub.dialog.localTag, 0);
      await this.subscriptions.end(sub, 'unsubscribed');
      return;
    }
    this.registry.setExpiry(sub, this.clock.now() + expires * 1000);
    this.registry.setFlow(sub, req.flow);
    await this.subscriptions.refresh(sub);
    this.answer(req, sub.dialog.localTag, expires);
    await this.notifier.notifyOne(sub);
  }

  /** 200 OK (or 202); a dialog-creating one copies the request's Record-Route (RFC 3261 §12.1.1). */
  private answer(
    req: IncomingRequest,
    localTag: string,
    expires: number,
    recordRoute: string[] = [],
    status = 200,
  ): void {
    const headers: Record<string, string | string[]> = {
      Expires: String(expires),
      Contact: this.bridge.localContact(req.flow),
    };
    // The request's To with its tag, as the stack copies it, unless the dialog's tag is another one.
    if (req.toTag !== localTag) {
      const to = req.request.to.clone();
      to.tag = localTag;
      headers.To = to.toString();
    }
    if (recordRoute.length > 0) headers['Record-Route'] = recordRoute;
    req.respond(status, status === 202 ? 'Accepted' : 'OK', headers);
  }
}
