import { Inject, Injectable } from '@nestjs/common';
import { checkLength } from '../../common/field-limits';
import { timeOrderedId } from '../../common/ids';
import { KeyedMutex } from '../../common/keyed-mutex';
import { CLOCK, RANDOM } from '../../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type { Clock, Random } from '../../sip';
import { PackageError, type PublishRules } from './event-package';
import { EventPackageRegistry } from './event-package.registry';
import { grantExpires } from './expires';
import { Notifier } from './notifier.service';
import type { Publication, PublishRequest, PublishResult } from './publication';
import { PublicationStore } from './publication.store';

/**
 * PUBLISH (RFC 3903 §6) from every source — SIP, REST, browser WebSocket — through one path: initial,
 * refresh, modify and remove, a new entity tag on every success, committed before it is acknowledged,
 * and one `changed` to the notifier when the state changed. Limits for every source alike: at most
 * `pa.maxPublicationsPerPresentity` live publications per presentity and event (a new one beyond is refused
 * with 403, the others are left alone), and the package's largest body (413).
 */
@Injectable()
export class PublishService {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly packages: EventPackageRegistry,
    private readonly store: PublicationStore,
    private readonly notifier: Notifier,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'pa'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) private readonly random: Random,
  ) {}

  publish(req: PublishRequest): Promise<PublishResult> {
    return this.locks.run(`${req.event}\u0000${req.presentity}`, () => this.apply(req));
  }

  private async apply(req: PublishRequest): Promise<PublishResult> {
    const pkg = this.packages.get(req.event);
    const rules = pkg?.publish;
    if (!pkg || !rules) {
      throw new PackageError(489, 'Bad Event', { 'Allow-Events': this.packages.publishable().join(', ') });
    }
    const expires = grantExpires(req.expires, rules.expires);
    const now = this.clock.now();
    const body = req.body ?? '';

    if (req.ifMatch === undefined) {
      if (body === '') throw new PackageError(400, 'Bad Request (PUBLISH without body needs SIP-If-Match)');
      if (expires === 0) throw new PackageError(400, 'Bad Request (Expires 0 needs SIP-If-Match)');
      const contentType = checkBody(rules, req, body);
      const max = this.config.pa.maxPublicationsPerPresentity;
      if (this.store.find(req.presentity, pkg.name, now).length >= max) {
        throw new PackageError(
          403,
          `Forbidden (${req.presentity} has ${max} ${pkg.name} publications, the most allowed)`,
        );
      }
      const publication: Publication = {
        id: timeOrderedId(now, this.random),
        presentity: req.presentity,
        event: pkg.name,
        etag: this.newEtag(),
        contentType,
        body,
        source: req.source,
        expiresAt: now + expires * 1000,
        modifiedAt: now,
        createdAt: now,
      };
      await this.store.save(publication);
      this.notifier.changed(req.presentity, pkg.name, {
        kind: 'publication',
        action: 'published',
        etag: publication.etag,
      });
      return { etag: publication.etag, expires, publication };
    }

    const previous = this.store.byTag(req.ifMatch);
    if (
      !previous ||
      previous.presentity !== req.presentity ||
      previous.event !== pkg.name ||
      previous.expiresAt <= now
    ) {
      throw new PackageError(412, 'Conditional Request Failed');
    }
    if (expires === 0) {
      await this.store.remove(previous);
      this.notifier.changed(req.presentity, pkg.name, { kind: 'publication', action: 'removed', etag: previous.etag });
      return { etag: previous.etag, expires: 0 };
    }
    if (body === '') {
      const refreshed: Publication = { ...previous, etag: this.newEtag(), expiresAt: now + expires * 1000 };
      await this.store.save(refreshed, previous);
      return { etag: refreshed.etag, expires, publication: refreshed };
    }
    const contentType = checkBody(rules, req, body);
    const modified: Publication = {
      ...previous,
      etag: this.newEtag(),
      contentType,
      body,
      source: req.source,
      expiresAt: now + expires * 1000,
      modifiedAt: now,
    };
    await this.store.save(modified, previous);
    this.notifier.changed(req.presentity, pkg.name, { kind: 'publication', action: 'modified', etag: modified.etag });
    return { etag: modified.etag, expires, publication: modified };
  }

  /** Removes publications whose expiry passed and notifies their watchers (RFC 3903 §6). */
  async expire(now = this.clock.now()): Promise<number> {
    const gone = this.store.expired(now);
    for (const p of gone) {
      await this.locks.run(`${p.event}\u0000${p.presentity}`, async () => {
        if (this.store.byTag(p.etag)?.id !== p.id) return;
        await this.store.remove(p);
        this.notifier.changed(p.presentity, p.event, { kind: 'publication', action: 'expired', etag: p.etag });
      });
    }
    return gone.length;
  }

  /** A new entity tag (RFC 3903 §4.1): 96 random bits, base64url. */
  private newEtag(): string {
    return Buffer.from(this.random.hex(12), 'hex').toString('base64url');
  }
}

/** The body's content type, after the package's checks (RFC 3903 §6 steps 4–5): 400, 415 with Accept, 413. */
function checkBody(rules: PublishRules, req: PublishRequest, body: string): string {
  const contentType = req.contentType;
  if (!contentType) throw new PackageError(400, 'Bad Request (Content-Type missing)');
  if (!rules.contentTypes.includes(contentType) && !rules.contentTypes.includes('*/*')) {
    throw new PackageError(415, 'Unsupported Media Type', { Accept: rules.contentTypes.join(', ') });
  }
  if (Buffer.byteLength(body, 'utf8') > rules.maxBodySize) {
    throw new PackageError(413, `Request Entity Too Large (over ${rules.maxBodySize} bytes)`);
  }
  checkLength('body', body);
  rules.validate(contentType, body, req.presentity);
  return contentType;
}
