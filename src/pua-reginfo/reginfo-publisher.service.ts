import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AorAttributesService } from '../location/aor-attributes.service';
import type { ContactChange } from '../location/binding';
import { LocationService } from '../location/location.service';
import { EventPackageRegistry } from '../pa/core/event-package.registry';
import { Notifier } from '../pa/core/notifier.service';
import { REGINFO_CONTENT_TYPE } from '../presence-reginfo/reginfo';
import { SipClientService } from '../sip-client/sip-client.service';

/** The owner name of pua_reginfo's publications and subscriptions in the outgoing client. */
export const PUA_REGINFO_OWNER = 'pua-reginfo';

/**
 * pua_reginfo's publishing side (`publish_reginfo`): every committed change of the local location service
 * sends a PUBLISH Event: reg with the AoR's reginfo document, the one the `reg` package renders (full state),
 * through puaReginfo.outboundProxy. Only REGISTERed bindings are published: bindings learned from a
 * reginfo NOTIFY never are (Kamailio skips its own usrloc changes the same way), so two servers that publish
 * and subscribe to each other do not loop. When the AoR's last binding goes, the publication is removed
 * (PUBLISH Expires 0).
 */
@Injectable()
export class ReginfoPublisher implements OnModuleInit {
  private readonly log = new Logger('PuaReginfo');

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
    this.location.onChange((change) => {
      if (change.domain !== this.domain()) return;
      if (!this.concernsLocal(change)) return;
      this.publishLater(change.aor);
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

  private publishLater(aor: string): void {
    this.publish(aor).catch((e: unknown) => {
      this.log.error(`reginfo PUBLISH of ${aor} failed: ${(e as Error).message}`);
    });
  }

  private async publish(aor: string): Promise<boolean> {
    const cfg = this.config.puaReginfo;
    const now = this.location.now();
    const local = this.location.lookup(aor, this.domain(), now).filter((b) => b.origin === undefined);
    if (local.length === 0) return this.client.unpublish(PUA_REGINFO_OWNER, aor);
    const pkg = this.packages.get('reg');
    if (!pkg) return false;
    const ids = new Set(local.map((b) => b.id));
    const state = await this.notifier.state(aor, 'reg', now);
    const body = pkg.render(
      { ...state, publications: [], contacts: state.contacts.filter((c) => ids.has(c.id)) },
      { kind: 'internal', uri: aor, accept: [] },
    );
    if (!body) return false;
    // Kamailio's reginfo_get_expires: the longest remaining binding.
    const expires = Math.max(1, ...local.map((b) => Math.ceil((b.expiresAt - now) / 1000)));
    const uri = withDomain(aor, cfg.defaultDomain);
    // Without an outbound proxy the PUBLISH goes to the AoR's domain; when that is served here it would come
    // back to this server, where the reg package already shows the bindings: nothing to send.
    if (!cfg.outboundProxy && this.servedHere(uri)) return false;
    await this.client.publish({
      owner: PUA_REGINFO_OWNER,
      key: aor,
      uri,
      from: cfg.serverAddress || uri,
      event: 'reg',
      contentType: REGINFO_CONTENT_TYPE,
      body: typeof body.body === 'string' ? body.body : body.body.toString('utf8'),
      expires,
      ...(cfg.outboundProxy && { route: cfg.outboundProxy }),
    });
    return true;
  }
}

/** `puaReginfo.defaultDomain` completes an AoR without a domain (`sip:alice` → `sip:alice@example.com`). */
export function withDomain(aor: string, defaultDomain: string): string {
  if (aor.includes('@') || !defaultDomain) return aor;
  const user = aor.replace(/^sips?:/i, '');
  return user ? `sip:${user}@${defaultDomain}` : `sip:${defaultDomain}`;
}
