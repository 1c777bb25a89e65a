import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CLOCK } from '../common/ports.module';
import type { Clock } from '../sip';
import { DomainError } from '../common/domain-error';
import { checkLength } from '../common/field-limits';
import { LocationRepository } from './location.repository';

const KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

/** How many AoRs' attributes {@link AorAttributesService.cached} keeps; the oldest loaded goes first. */
const CACHE_SIZE = 10_000;

/** A committed change of one attribute (set, or deleted: `value` undefined). */
export interface AttributeChange {
  readonly domain: string;
  readonly aor: string;
  readonly key: string;
  readonly value?: string;
}

export type AttributeChangeListener = (change: AttributeChange) => void;

/** Per-AoR key/value attributes (usrloc `ul_add_key`), e.g. the extra identities pua_reginfo reads. */
@Injectable()
export class AorAttributesService {
  /** `domain\u0000aor` → its attributes, for readers on the notification path. */
  private readonly cache = new Map<string, Readonly<Record<string, string>>>();
  private readonly listeners: AttributeChangeListener[] = [];
  /** Counts writes, so that a load that raced with one is not cached. */
  private writes = 0;

  constructor(
    private readonly repo: LocationRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private check(key: string): void {
    if (!KEY.test(key)) throw new DomainError(400, 'key must be 1-64 characters of A-Z a-z 0-9 _ . : -', 'key');
  }

  /** Subscribes to committed attribute changes. */
  onChange(listener: AttributeChangeListener): void {
    this.listeners.push(listener);
  }

  async get(aor: string, key: string, domain = this.config.registrar.defaultDomain): Promise<string> {
    this.check(key);
    const v = await this.repo.getAttribute(domain, aor, key);
    if (v === undefined) throw new DomainError(404, `${aor} has no attribute ${key}`, 'key');
    return v;
  }

  list(aor: string, domain = this.config.registrar.defaultDomain): Promise<Record<string, string>> {
    return this.repo.listAttributes(domain, aor);
  }

  /**
   * The attributes of an AoR from memory once loaded (a NOTIFY rendered on every REGISTER must not read the
   * database); kept current by this service's own writes.
   */
  async cached(aor: string, domain = this.config.registrar.defaultDomain): Promise<Readonly<Record<string, string>>> {
    const k = `${domain}\u0000${aor}`;
    const hit = this.cache.get(k);
    if (hit) return hit;
    const before = this.writes;
    const loaded = Object.freeze(await this.repo.listAttributes(domain, aor));
    if (this.writes !== before) return loaded;
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(k, loaded);
    return loaded;
  }

  async set(aor: string, key: string, value: unknown, domain = this.config.registrar.defaultDomain): Promise<string> {
    this.check(key);
    if (typeof value !== 'string') throw new DomainError(400, 'value must be a string', 'value');
    checkLength('attributeValue', value, 'value');
    await this.repo.setAttribute(domain, aor, key, value, this.clock.now());
    this.changed({ domain, aor, key, value });
    return value;
  }

  async delete(aor: string, key: string, domain = this.config.registrar.defaultDomain): Promise<void> {
    this.check(key);
    if (!(await this.repo.deleteAttribute(domain, aor, key)))
      throw new DomainError(404, `${aor} has no attribute ${key}`, 'key');
    this.changed({ domain, aor, key });
  }

  private changed(change: AttributeChange): void {
    this.writes++;
    const k = `${change.domain}\u0000${change.aor}`;
    const hit = this.cache.get(k);
    if (hit) {
      const next = Object.entries(hit).filter(([key]) => key !== change.key);
      if (change.value !== undefined) next.push([change.key, change.value]);
      this.cache.set(k, Object.freeze(Object.fromEntries(next)));
    }
    for (const l of this.listeners) l(change);
  }
}
