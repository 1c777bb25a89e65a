import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { FIELD_LIMITS } from '../common/field-limits';
import { timeOrderedId } from '../common/ids';
import { CLOCK } from '../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { computeHa1, type Clock, type DigestAlgorithm } from '../sip';
import type { Subscriber } from './subscriber';
import { isDuplicateKey, SubscriberRepository } from './subscriber.repository';

/** User part: unreserved characters of RFC 3261 §25.1 that need no escaping in a SIP URI. */
const USERNAME = /^[A-Za-z0-9._~!$&'()*+=-]{1,64}$/;
/** A host name or IPv4 address, lower case. */
const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const MAX_PASSWORD = 128;
/** How long a looked-up HA1 (or the absence of a user) is trusted before it is read again (other instances). */
const CACHE_MS = 30_000;
const CACHE_ENTRIES = 100_000;

/** What digest verification needs of a user: the realm its HA1s were made for, and the HA1s. */
export interface DigestSecrets {
  readonly realm: string;
  readonly ha1: Readonly<Record<DigestAlgorithm, string>>;
}

interface CacheEntry {
  readonly value: DigestSecrets | null;
  readonly at: number;
}

/** A new subscriber as an operator gives it. */
export interface NewSubscriber {
  readonly username: string;
  readonly domain: string;
  readonly password: string;
}

/**
 * Digest users: created with a password of which only HA1s (MD5 and SHA-256, for the realm of the day —
 * auth.realm, or the user's domain) are kept; looked up for every authenticated request through a cache
 * that answers without the database once a user has been seen.
 */
@Injectable()
export class SubscriberService {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly repo: SubscriberRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The realm HA1s are computed for: auth.realm, or the domain. */
  realmOf(domain: string): string {
    return this.config.auth.realm || domain;
  }

  /**
   * The digest secrets of `username@domain`, or null when there is no such user: synchronously from the
   * cache when it holds a fresh entry, otherwise from the database.
   */
  secrets(username: string, domain: string): DigestSecrets | null | Promise<DigestSecrets | null> {
    const key = `${username}@${domain}`;
    const hit = this.cache.get(key);
    const now = this.clock.now();
    if (hit && now - hit.at < CACHE_MS) return hit.value;
    return this.repo.byUser(username, domain).then((s) => {
      const value = s ? { realm: s.realm, ha1: { MD5: s.ha1Md5, 'SHA-256': s.ha1Sha256 } } : null;
      if (!hit && this.cache.size >= CACHE_ENTRIES) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.set(key, { value, at: this.clock.now() });
      return value;
    });
  }

  async create(input: NewSubscriber): Promise<Subscriber> {
    const username = checkUsername(input.username);
    const domain = checkDomain(input.domain);
    const password = checkPassword(input.password);
    const realm = this.realmOf(domain);
    const now = this.clock.now();
    const s: Subscriber = {
      id: timeOrderedId(now),
      username,
      domain,
      realm,
      ha1Md5: computeHa1('MD5', username, realm, password),
      ha1Sha256: computeHa1('SHA-256', username, realm, password),
      createdAt: now,
      modifiedAt: now,
    };
    try {
      await this.repo.insert(s);
    } catch (e) {
      if (isDuplicateKey(e)) throw new DomainError(409, `subscriber ${username}@${domain} already exists`, 'username');
      throw e;
    }
    this.cache.delete(`${username}@${domain}`);
    return s;
  }

  /** Whether any user exists (without one, every challenged SIP request is refused). */
  any(): Promise<boolean> {
    return this.repo.any();
  }

  list(domain?: string): Promise<Subscriber[]> {
    return this.repo.list(domain === undefined ? undefined : checkDomain(domain));
  }

  async get(id: string): Promise<Subscriber> {
    const s = await this.repo.byId(id);
    if (!s) throw new DomainError(404, `no subscriber with id ${id}`, 'id');
    return s;
  }

  /** Sets a new password (HA1s for the current realm). */
  async setPassword(id: string, password: string): Promise<Subscriber> {
    const s = await this.get(id);
    const pw = checkPassword(password);
    const realm = this.realmOf(s.domain);
    const now = this.clock.now();
    const md5 = computeHa1('MD5', s.username, realm, pw);
    const sha = computeHa1('SHA-256', s.username, realm, pw);
    await this.repo.updateHa1(id, realm, md5, sha, now);
    this.cache.delete(`${s.username}@${s.domain}`);
    return { ...s, realm, ha1Md5: md5, ha1Sha256: sha, modifiedAt: now };
  }

  async remove(id: string): Promise<void> {
    const s = await this.get(id);
    await this.repo.remove(id);
    this.cache.delete(`${s.username}@${s.domain}`);
  }
}

function checkUsername(v: unknown): string {
  if (typeof v !== 'string' || !USERNAME.test(v)) {
    throw new DomainError(
      400,
      "username must be 1 to 64 characters of letters, digits and . _ ~ ! $ & ' ( ) * + = -",
      'username',
    );
  }
  return v;
}

function checkDomain(v: unknown): string {
  if (typeof v !== 'string' || v.length > FIELD_LIMITS.subscriberDomain.max || !DOMAIN.test(v.toLowerCase())) {
    throw new DomainError(400, 'domain must be a host name or IPv4 address of at most 128 characters', 'domain');
  }
  return v.toLowerCase();
}

function checkPassword(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_PASSWORD) {
    throw new DomainError(400, `password must be a string of 1 to ${MAX_PASSWORD} characters`, 'password');
  }
  return v;
}
