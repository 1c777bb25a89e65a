import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { checkLength } from '../common/field-limits';
import { KeyedMutex } from '../common/keyed-mutex';
import { CLOCK, RANDOM } from '../common/ports.module';
import { Notifier } from '../pa/core/notifier.service';
import { SubscriptionRegistry } from '../pa/core/subscription.registry';
import type { Clock, Random } from '../sip';
import { PackageError, type DocumentPublish } from '../pa/core/event-package';
import { trustedSources } from '../pa/presence/trusted-sources';
import {
  domainOf,
  localNetworkAor,
  ownerFor,
  profileId,
  eventParamValues,
  targetOfEventParams,
  UA_PROFILE_EVENT,
  type Profile,
  type ProfileMeta,
  type ProfileTarget,
} from './profile';
import { ProfileRepository, type ProfileFilter } from './profile.repository';
import { heldVersion, type ProfileHolder, type ProfileSource } from './ua-profile.package';

/** An upload: REST PUT or a trusted PUBLISH. */
export interface ProfileUpload {
  readonly aor: string;
  readonly target: ProfileTarget;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  /** Entity tag the stored version must have (`*`: any); absent: unconditional. */
  readonly ifMatch?: string;
  readonly effectiveBy?: number;
}

const USER: ProfileTarget = { profileType: 'user' };

/** Bytes of document versions kept in memory for NOTIFYs; the least recently stored go first. */
const CACHE_BYTES = 64 * 1024 * 1024;

/**
 * `ua-profile` documents: stored whole before the upload is answered (group commit), guarded by entity tags
 * (412 on a stale If-Match), limited in size (413), never expiring; every change goes to the one notifier, for
 * the AoR's watchers (or, for a local-network document, for the watchers of every AoR of its domain).
 */
@Injectable()
export class ProfileService implements ProfileSource {
  private readonly mutex = new KeyedMutex();
  private readonly trusted: (uri: string) => boolean;
  /** Version bytes by entity tag (a version never changes, so the cache is never stale). */
  private readonly cache = new Map<string, Buffer>();
  private cachedBytes = 0;

  constructor(
    private readonly repo: ProfileRepository,
    private readonly notifier: Notifier,
    private readonly subscriptions: SubscriptionRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) private readonly random: Random,
  ) {
    this.trusted = trustedSources(config.presenceProfile.trustedPublishers);
  }

  /** Stores a new version of the AoR's document for `target`; `created` when there was none. */
  async put(up: ProfileUpload): Promise<{ profile: ProfileMeta; created: boolean }> {
    const max = this.config.presenceProfile.maxDocumentSize;
    if (up.body.length > max) {
      throw new DomainError(413, `body is too large: ${up.body.length} bytes, at most ${max}`, 'body');
    }
    if (!up.contentType)
      throw new DomainError(415, 'Content-Type is required: the type of the document', 'Content-Type');
    checkLength('contentType', up.contentType, 'Content-Type');
    const id = profileId(up.aor, up.target);
    const stored = await this.mutex.run(id, async () => {
      const current = await this.repo.byId(id);
      this.checkIfMatch(current, up.ifMatch);
      const now = this.clock.now();
      const profile: Profile = {
        id,
        aor: up.aor,
        ...up.target,
        contentType: up.contentType!,
        etag: this.random.hex(10),
        size: up.body.length,
        ...(up.effectiveBy !== undefined && { effectiveBy: up.effectiveBy }),
        createdAt: current?.createdAt ?? now,
        modifiedAt: now,
        body: up.body,
      };
      await this.repo.save(profile, current);
      this.remember(profile.etag, profile.body);
      return { profile, created: current === undefined };
    });
    this.changed(stored.profile);
    const { body: _body, ...meta } = stored.profile;
    return { profile: meta, created: stored.created };
  }

  /** The AoR's document for exactly `target`, with its bytes; 404 naming `aor` when there is none. */
  async get(aor: string, target: ProfileTarget): Promise<Profile> {
    const meta = await this.repo.byId(profileId(aor, target));
    const p = meta && (await this.withBody(meta));
    if (!p) throw new DomainError(404, `${aor} has no ${target.profileType} profile for this target`, 'aor');
    return p;
  }

  /** Removes the AoR's document for `target`; 404 when there is none, 412 on a stale If-Match. */
  async remove(aor: string, target: ProfileTarget, ifMatch?: string): Promise<void> {
    const id = profileId(aor, target);
    const removed = await this.mutex.run(id, async () => {
      const current = await this.repo.byId(id);
      if (!current) throw new DomainError(404, `${aor} has no ${target.profileType} profile for this target`, 'aor');
      this.checkIfMatch(current, ifMatch);
      await this.repo.remove(current);
      return current;
    });
    this.changed(removed);
  }

  /**
   * PUBLISH Event: ua-profile from a trusted provisioning source (presenceProfile.trustedPublishers), stored as
   * an upload would be: a body stores a new version (SIP-If-Match guards it), no body with SIP-If-Match
   * refreshes (the entity tag stays: documents do not expire), Expires 0 with SIP-If-Match removes. The target
   * is the Event parameters' (user when none); the Expires answered is the one asked for.
   */
  async publish(req: DocumentPublish): Promise<{ etag: string; expires: number }> {
    if (!this.trusted(req.source)) {
      throw new PackageError(403, `Forbidden (${req.source} is not a trusted provisioning source)`);
    }
    const target = req.eventParams?.['profile-type'] === undefined ? USER : targetOfEventParams(req.eventParams);
    const owner = ownerFor(req.presentity, target.profileType);
    const expires = req.expires ?? this.config.presenceProfile.defaultExpires;
    if (req.body.length === 0 || expires === 0) {
      if (req.ifMatch === undefined) {
        throw new PackageError(400, 'Bad Request (PUBLISH without body or with Expires 0 needs SIP-If-Match)');
      }
      if (expires === 0) {
        await this.remove(owner, target, req.ifMatch);
        return { etag: req.ifMatch, expires: 0 };
      }
      const current = await this.repo.byId(profileId(owner, target));
      if (current?.etag !== req.ifMatch) throw new PackageError(412, 'Conditional Request Failed');
      return { etag: current.etag, expires };
    }
    const { profile } = await this.put({
      aor: owner,
      target,
      contentType: req.contentType,
      body: req.body,
      ...(req.ifMatch !== undefined && { ifMatch: req.ifMatch }),
    });
    return { etag: profile.etag, expires };
  }

  list(filter: ProfileFilter): Promise<ProfileMeta[]> {
    return this.repo.list(filter);
  }

  async documentsFor(presentity: string): Promise<Profile[]> {
    const metas = await this.repo.byAors([presentity, localNetworkAor(domainOf(presentity))]);
    const out: Profile[] = [];
    for (const m of metas) {
      const p = await this.withBody(m);
      if (p) out.push(p);
    }
    return out;
  }

  async version(etag: string): Promise<Profile | undefined> {
    const meta = await this.repo.byEtag(etag);
    return meta && this.withBody(meta);
  }

  /** The AoR's subscribers and the version each was last sent (RFC 6080 devices, browsers). */
  holders(aor: string): ProfileHolder[] {
    return this.subscriptions.watchers(aor, UA_PROFILE_EVENT).map((s) => {
      const etag = heldVersion(s.packageState);
      return {
        subscription: s.id,
        watcher: s.watcher,
        kind: s.kind,
        target: eventParamValues(s.eventParams),
        ...(etag !== undefined && { etag }),
        expiresAt: s.expiresAt,
      };
    });
  }

  private checkIfMatch(current: ProfileMeta | undefined, ifMatch: string | undefined): void {
    if (ifMatch === undefined) return;
    if (!current || (ifMatch !== '*' && ifMatch !== current.etag)) {
      throw new DomainError(
        412,
        current
          ? `If-Match "${ifMatch}" is not the current version ("${current.etag}"): the document changed meanwhile`
          : `If-Match "${ifMatch}" names no stored version: there is no document for this target`,
        'If-Match',
      );
    }
  }

  private async withBody(meta: ProfileMeta): Promise<Profile | undefined> {
    let body = this.cache.get(meta.etag);
    if (!body) {
      body = await this.repo.body(meta.etag, meta.size);
      if (!body) return undefined;
      this.remember(meta.etag, body);
    }
    return { ...meta, body };
  }

  private remember(etag: string, body: Buffer): void {
    if (body.length > CACHE_BYTES / 4 || this.cache.has(etag)) return;
    this.cache.set(etag, body);
    this.cachedBytes += body.length;
    for (const [k, v] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cachedBytes -= v.length;
    }
  }

  /** Tells the watchers the document may concern: of its AoR, or of every AoR of a local-network domain. */
  private changed(p: ProfileMeta): void {
    if (p.profileType !== 'local-network') {
      this.notifier.changed(p.aor, UA_PROFILE_EVENT, { kind: 'document' });
      return;
    }
    const domain = domainOf(p.aor);
    for (const presentity of this.subscriptions.watched(UA_PROFILE_EVENT)) {
      if (domainOf(presentity) === domain) this.notifier.changed(presentity, UA_PROFILE_EVENT, { kind: 'document' });
    }
  }
}
