import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { KeyedMutex } from '../common/keyed-mutex';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AorAttributesService } from '../location/aor-attributes.service';
import type { Binding, ContactChange } from '../location/binding';
import { LocationService } from '../location/location.service';
import { EventPackageRegistry } from '../pa/core/event-package.registry';
import { Notifier } from '../pa/core/notifier.service';
import type { ContactView, PresentityState } from '../pa/core/event-package';
import { REGINFO_CONTENT_TYPE, reginfoXml } from '../presence-reginfo/reginfo';
import { parseIdentities, registrationsOf } from '../presence-reginfo/reginfo-local';
import { SipClientService } from '../sip-client/sip-client.service';

/** The owner name of pua_reginfo's publications and subscriptions in the outgoing client. */
export const PUA_REGINFO_OWNER = 'pua-reginfo';

/**
 * pua_reginfo's publishing side (`publish_reginfo`): every committed change of the local location service
 * sends a PUBLISH Event: reg with the AoR's reginfo document, the one the `reg` package renders (full state),
 * through puaReginfo.outboundProxy. Only REGISTERed bindings are published: bindings learned from a
 * reginfo NOTIFY never are (Kamailio skips its own usrloc changes the same way), so two servers that publish
 * and subscribe to each other do not loop. When the AoR's last binding goes, a document with the
 * registration terminated is published, then the publication is removed (PUBLISH Expires 0).
 */
@Injectable()
export class ReginfoPublisher implements OnModuleInit {
  private readonly log = new Logger('PuaReginfo');
  /** One PUBLISH decision per AoR at a time, so that documents go out in the order of the changes. */
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly client: SipClientService,
    private readonly location: LocationService,
    private readonly attributes: AorAttributesService,
    private readonly packages: EventPackageRegistry,
    private readonly notifier: Notifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const cfg = this.config.puaReginfo;
    if (!cfg.publishReginfo) return;
    this.client.setCurrentBody(PUA_REGINFO_OWNER, (rec) => this.currentBody(rec.key));
    this.location.onChange((change) => {
      if (change.domain !== this.domain()) return;
      if (!this.concernsLocal(change)) return;
      this.publishLater(change.aor, change);
    });
    if (cfg.ulIdentitiesKey) {
      this.attributes.onChange((c) => {
        if (c.key === cfg.ulIdentitiesKey && c.domain === this.domain()) this.publishLater(c.aor);
      });
    }
  }

  /**
   * reginfo_update(aor): publishes the AoR's reginfo again and notifies local reg watchers. Resolves with
   * whether a PUBLISH went out (publishing on, and the AoR has bindings or a publication to remove).
   */
  async update(aor: string): Promise<boolean> {
    this.notifier.changed(aor, 'reg');
    if (!this.config.puaReginfo.publishReginfo) return false;
    return this.publish(aor);
  }

  /** The location domain pua_reginfo reads and writes (puaReginfo.ulDomain, else the registrar's). */
  domain(): string {
    return this.config.puaReginfo.ulDomain || this.config.registrar.defaultDomain;
  }

  private servedHere(uri: string): boolean {
    const domains = this.config.sip.domains;
    const host = uri
      .replace(/^sips?:([^@]*@)?/i, '')
      .replace(/[;:>].*$/, '')
      .toLowerCase();
    return domains.length === 0 || domains.includes(host);
  }

  /** Whether a change touched a REGISTERed binding (not only bindings learned from reginfo). */
  private concernsLocal(change: ContactChange): boolean {
    return change.events.some((e) => e.binding.origin === undefined);
  }

  /**
   * Without an outbound proxy the PUBLISH goes to the AoR's domain; when that is served here it would come back
   * to this server, where the reg package already shows the bindings: nothing to send.
   */
  private staysHere(uri: string): boolean {
    return !this.config.puaReginfo.outboundProxy && this.servedHere(uri);
  }

  private publishLater(aor: string, change?: ContactChange): void {
    // Decided before taking the AoR's lock: on a server that is its own registrar (the common case) every
    // REGISTER passes here.
    if (this.staysHere(withDomain(aor, this.config.puaReginfo.defaultDomain))) return;
    this.publish(aor, change).catch((e: unknown) => {
      this.log.error(`reginfo PUBLISH of ${aor} failed: ${(e as Error).message}`);
    });
  }

  private publish(aor: string, change?: ContactChange): Promise<boolean> {
    return this.locks.run(aor, () => this.publishNow(aor, change));
  }

  private async publishNow(aor: string, change?: ContactChange): Promise<boolean> {
    const cfg = this.config.puaReginfo;
    const now = this.location.now();
    const uri = withDomain(aor, cfg.defaultDomain);
    if (this.staysHere(uri)) return false;
    const local = this.location.lookup(aor, this.domain(), now).filter((b) => b.origin === undefined);
    const state = await this.notifier.state(aor, 'reg', now);
    let body: string;
    // A fixed expiry, refreshed while the AoR has bindings (Kamailio's pua_reginfo sends 3601 whatever the
    // bindings' expiries).
    const expires = cfg.publishExpires;
    if (local.length === 0) {
      if (!this.client.get('publish', PUA_REGINFO_OWNER, aor)) return false;
      // The last binding went: its end is published (registration terminated, each contact with its event,
      // as Kamailio's pua_reginfo does), then the publication is removed.
      const ended = (change?.events ?? []).filter((e) => e.binding.origin === undefined);
      const views = ended.map((e) => bindingView(e.binding, e.type));
      const ids = parseIdentities(aor, cfg.ulIdentitiesKey ? state.attributes?.[cfg.ulIdentitiesKey] : undefined);
      body = reginfoXml({ version: 0, state: 'full', registrations: registrationsOf(ids, views, now, 'terminated') });
    } else {
      const rendered = this.document(aor, local, state);
      if (rendered === undefined) return false;
      body = rendered;
    }
    await this.client.publish({
      owner: PUA_REGINFO_OWNER,
      key: aor,
      uri,
      from: cfg.serverAddress || uri,
      event: 'reg',
      contentType: REGINFO_CONTENT_TYPE,
      body,
      expires,
      ...(cfg.outboundProxy && { route: cfg.outboundProxy }),
    });
    if (local.length === 0) await this.client.unpublish(PUA_REGINFO_OWNER, aor);
    return true;
  }

  /** The AoR's document with its live REGISTERed bindings, as the reg package renders it (full state). */
  private document(aor: string, local: readonly Binding[], state: PresentityState): string | undefined {
    const rendered = this.packages
      .get('reg')
      ?.render(
        { ...state, publications: [], contacts: local.map((b) => bindingView(b, 'registered')) },
        { kind: 'internal', uri: aor, accept: [] },
      );
    if (!rendered) return undefined;
    return typeof rendered.body === 'string' ? rendered.body : rendered.body.toString('utf8');
  }

  /**
   * After a restart, the document of a publication that ran out at the server while we were down: the AoR's
   * live bindings now. With none live, nothing is sent now: bindings that expired while we were down are
   * announced by the location service's first sweep, whose change publishes their end; with none of those
   * either, the end of the registration is published here. (No AoR lock: the caller holds the publication.)
   */
  private async currentBody(aor: string): Promise<string | undefined> {
    const now = this.location.now();
    const local = this.location.lookup(aor, this.domain(), now).filter((b) => b.origin === undefined);
    if (local.length > 0) return this.document(aor, local, await this.notifier.state(aor, 'reg', now));
    // Every binding still held, the expired ones the sweep has not removed yet included.
    const held = this.location.lookup(aor, this.domain(), 0).filter((b) => b.origin === undefined);
    if (held.length === 0) this.publishLater(aor);
    return undefined;
  }
}

/** A binding as the reg package shows a contact, with the event it is reported with. */
function bindingView(b: Binding, event: string): ContactView {
  return {
    id: b.id,
    uri: b.uri,
    ...(b.displayName !== undefined && { displayName: b.displayName }),
    ...(b.params !== undefined && { params: b.params }),
    expiresAt: b.expiresAt,
    ...(b.q !== undefined && { q: b.q }),
    ...(b.instance !== undefined && { instance: b.instance }),
    ...(b.regId !== undefined && { regId: b.regId }),
    callId: b.callId,
    cseq: b.cseq,
    registeredAt: b.createdAt,
    event,
  };
}

/** `puaReginfo.defaultDomain` completes an AoR without a domain (`sip:alice` → `sip:alice@example.com`). */
export function withDomain(aor: string, defaultDomain: string): string {
  if (aor.includes('@') || !defaultDomain) return aor;
  const user = aor.replace(/^sips?:/i, '');
  return user ? `sip:${user}@${defaultDomain}` : `sip:${defaultDomain}`;
}
