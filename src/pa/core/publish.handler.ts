import { Injectable, type OnModuleInit } from '@nestjs/common';
import { checkLength } from '../../common/field-limits';
import type { IncomingRequest } from '../../sip';
import { SipError } from '../../sip';
import { SipBridge } from '../../sip-bridge/sip-bridge.service';
import type { EventPackage } from './event-package';
import { EventPackageRegistry } from './event-package.registry';
import { PublishService } from './publish.service';
import { eventParamsOf } from './event-params';

/** PUBLISH over SIP (RFC 3903 §6) for every package that accepts publications. */
@Injectable()
export class PublishHandler implements OnModuleInit {
  constructor(
    private readonly bridge: SipBridge,
    private readonly packages: EventPackageRegistry,
    private readonly publisher: PublishService,
  ) {}

  onModuleInit(): void {
    this.packages.onAdd((pkg) => {
      if (pkg.publish || pkg.publishDocument) this.bridge.register('PUBLISH', (req) => this.handle(pkg, req), pkg.name);
    });
  }

  async handle(pkg: EventPackage, req: IncomingRequest): Promise<void> {
    const r = req.request;
    if (!r.uri.isSip || !r.uri.user) throw new SipError(404, 'Not Found (no presentity in Request-URI)');
    const presentity = r.uri.aor();
    checkLength('aor', presentity, 'Request-URI');
    // The authenticated identity, when there is one, is who publishes; From only without authentication.
    const source = req.identity ?? (r.from.uri.isSip ? r.from.uri.aor() : r.from.uri.toString());
    // A document package (ua-profile) judges its publishers itself; a state package takes a user's own only.
    if (req.identity !== undefined && !pkg.publishDocument && req.identity !== presentity) {
      throw new SipError(403, `Forbidden (${req.identity} may publish only its own ${pkg.name} state)`);
    }
    const ifMatch = r.headers.get('sip-if-match')?.trim();
    if (pkg.publishDocument) {
      const params = eventParamsOf(r.event?.params);
      const stored = await pkg.publishDocument({
        presentity,
        source,
        ...(params && { eventParams: params }),
        ...(ifMatch !== undefined && { ifMatch }),
        ...(r.expires !== undefined && { expires: r.expires }),
        ...(r.body.length > 0 && r.contentType !== undefined && { contentType: r.contentType }),
        body: r.body,
      });
      req.respond(200, 'OK', { 'SIP-ETag': stored.etag, Expires: String(stored.expires) });
      return;
    }
    const result = await this.publisher.publish({
      presentity,
      event: pkg.name,
      ifMatch,
      expires: r.expires,
      contentType: r.body.length ? r.contentType : undefined,
      body: r.body.toString('utf8'),
      source,
    });
    req.respond(200, 'OK', { 'SIP-ETag': result.etag, Expires: String(result.expires) });
  }
}
