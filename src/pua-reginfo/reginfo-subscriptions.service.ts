import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { parseAor } from '../common/aor';
import { DomainError } from '../common/domain-error';
import { LocationService } from '../location/location.service';
import { mediaType } from '../pa/core/accept';
import { PackageError } from '../pa/core/event-package';
import { parseReginfo, REGINFO_CONTENT_TYPE, type Registration } from '../presence-reginfo/reginfo';
import { SipError, SipUri, type ClientNotify, type OutgoingRecord } from '../sip';
import { SipBridge } from '../sip-bridge/sip-bridge.service';
import { SipClientService } from '../sip-client/sip-client.service';
import { applyRegistration, type ReginfoResult } from './reginfo-apply';
import { PUA_REGINFO_OWNER, ReginfoPublisher } from './reginfo-publisher.service';

/** A reginfo NOTIFY applied to the location service: which subscription, how many AoRs, and the result code. */
export interface ReginfoApplied {
  readonly uri: string;
  readonly aors: readonly string[];
  /** pua_reginfo's return value: 1 contacts remain, 2 none left. */
  readonly result: ReginfoResult;
}

export type ReginfoAppliedListener = (applied: ReginfoApplied) => void;

const MAX_EXPIRES = 31_536_000;

/** How long reginfo_subscribe over REST waits for the notifier's answer before it answers itself. */
const FIRST_ANSWER_WAIT_MS = 3000;

/**
 * pua_reginfo's subscribing side: reginfo_subscribe(uri[, expires]) (REST and puaReginfo.subscriptions),
 * persisted in the outgoing client, and reginfo_handle_notify: a NOTIFY Event: reg in such a subscription is
 * read whole (a bad document gets 400 and changes nothing) and applied to the location domain
 * puaReginfo.ulDomain; the bindings it creates carry the subscription's URI as their origin.
 */
@Injectable()
export class ReginfoSubscriptions implements OnModuleInit, OnApplicationBootstrap {
  private readonly log = new Logger('PuaReginfo');
  private readonly listeners: ReginfoAppliedListener[] = [];

  constructor(
    private readonly client: SipClientService,
    private readonly location: LocationService,
    private readonly publisher: ReginfoPublisher,
    private readonly bridge: SipBridge,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.client.onNotify(PUA_REGINFO_OWNER, (n) => this.handleNotify(n));
  }

  /** Subscriptions of puaReginfo.subscriptions not held yet are started (as reginfo_subscribe at start-up). */
  onApplicationBootstrap(): void {
    for (const uri of this.config.puaReginfo.subscriptions) {
      if (this.client.get('subscribe', PUA_REGINFO_OWNER, uri)) continue;
      this.subscribe(uri).catch((e: unknown) => {
        this.log.error(`reginfo_subscribe(${uri}) failed: ${(e as Error).message}`);
      });
    }
  }

  /** Tells `listener` of every applied reginfo NOTIFY (with the 1/2 result of reginfo_handle_notify). */
  onApplied(listener: ReginfoAppliedListener): void {
    this.listeners.push(listener);
  }

  /** reginfo_subscribe(uri[, expires]); `uri` and `expires` as the API received them. */
  async subscribe(uriInput: unknown, expiresInput?: unknown): Promise<Readonly<OutgoingRecord>> {
    const uri = checkUri(uriInput);
    const expires = expiresInput === undefined ? this.config.puaReginfo.subscribeExpires : checkExpires(expiresInput);
    const cfg = this.config.puaReginfo;
    const from = cfg.serverAddress || `sip:reginfo@${hostPart(this.bridge.advertisedHost())}`;
    const sent = this.client.subscribe({
      owner: PUA_REGINFO_OWNER,
      key: uri,
      uri,
      from,
      event: 'reg',
      expires,
      ...(cfg.outboundProxy && { route: cfg.outboundProxy }),
      options: {
        accept: [REGINFO_CONTENT_TYPE],
        ...(cfg.serverAddress && { contact: `<${cfg.serverAddress}>` }),
      },
    });
    // The record is saved before the SUBSCRIBE goes out; an unreachable notifier (Timer F, 32 s) does not hold
    // the caller longer than FIRST_ANSWER_WAIT_MS: the record then says `sending`, and later how it went.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        resolve(undefined);
      }, FIRST_ANSWER_WAIT_MS);
      timer.unref();
    });
    const answered = await Promise.race([sent, waited]);
    clearTimeout(timer);
    return answered ?? this.client.get('subscribe', PUA_REGINFO_OWNER, uri)!;
  }

  list(): Readonly<OutgoingRecord>[] {
    return this.client.list('subscribe', PUA_REGINFO_OWNER);
  }

  byId(id: string): Readonly<OutgoingRecord> {
    const rec = this.list().find((r) => r.id === id);
    if (!rec) throw new DomainError(404, `no reginfo subscription ${id}`, 'id');
    return rec;
  }

  async unsubscribe(id: string): Promise<void> {
    const rec = this.byId(id);
    await this.client.unsubscribe(PUA_REGINFO_OWNER, rec.key);
  }

  /** reginfo_handle_notify: the whole document is checked before anything is applied. */
  private async handleNotify(n: ClientNotify): Promise<void> {
    if (n.body.trim() === '') return; // e.g. a terminating NOTIFY without a body
    if (n.contentType !== undefined && mediaType(n.contentType) !== REGINFO_CONTENT_TYPE) {
      throw new SipError(415, 'Unsupported Media Type', { Accept: REGINFO_CONTENT_TYPE });
    }
    let doc;
    try {
      doc = parseReginfo(n.body);
    } catch (e) {
      if (e instanceof PackageError) throw new SipError(400, e.reason);
      throw e;
    }
    const byAor = mergeByAor(doc.registrations);
    const domain = this.publisher.domain();
    const origin = n.record.uri;
    const now = this.location.now();
    let remaining = false;
    for (const [aor, reg] of byAor) {
      await this.location.update(domain, aor, (current) => {
        const { next, events } = applyRegistration(current, reg, {
          origin,
          domain,
          aor,
          now,
          full: doc.state === 'full',
          defaultExpires: this.config.puaReginfo.subscribeExpires,
        });
        return { next, events, result: undefined };
      });
      if (this.location.lookup(aor, domain).length > 0) remaining = true;
    }
    const applied: ReginfoApplied = { uri: origin, aors: [...byAor.keys()], result: remaining ? 1 : 2 };
    this.log.log(`reginfo NOTIFY from ${origin} applied: result=${applied.result} aors=${applied.aors.join(',')}`);
    for (const l of this.listeners) l(applied);
  }
}

/** Registrations of one AoR merged (identities and several sources list the same AoR more than once). */
function mergeByAor(registrations: readonly Registration[]): Map<string, Registration> {
  const out = new Map<string, Registration>();
  for (const r of registrations) {
    let aor: string;
    try {
      aor = parseAor(r.aor);
    } catch {
      continue; // tel: and other identities have no place in the location service
    }
    const seen = out.get(aor);
    if (!seen) out.set(aor, { ...r, aor, contacts: [...r.contacts] });
    else {
      out.set(aor, {
        ...seen,
        state: seen.state === 'terminated' && r.state === 'terminated' ? 'terminated' : 'active',
        contacts: [...seen.contacts, ...r.contacts],
      });
    }
  }
  return out;
}

function checkUri(input: unknown): string {
  if (typeof input !== 'string' || input.trim() === '') throw new DomainError(400, 'uri is required', 'uri');
  try {
    const uri = SipUri.parse(input.trim());
    if (!uri.isSip || uri.hasHeaders) throw new Error('not a SIP URI');
    if (uri.toString().length > 255) throw new DomainError(400, 'uri is too long: at most 255 characters', 'uri');
    return uri.toString();
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw new DomainError(400, `uri must be a sip: or sips: URI, got ${JSON.stringify(input)}`, 'uri');
  }
}

function checkExpires(input: unknown): number {
  if (typeof input !== 'number' || !Number.isInteger(input) || input < 1 || input > MAX_EXPIRES) {
    throw new DomainError(400, `expires must be an integer from 1 to ${MAX_EXPIRES}`, 'expires');
  }
  return input;
}

function hostPart(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
