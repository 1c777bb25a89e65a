import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { checkLength } from '../common/field-limits';
import { LocationRepository } from './location.repository';

const KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Per-AoR key/value attributes (usrloc `ul_add_key`), e.g. the extra identities pua_reginfo reads. */
@Injectable()
export class AorAttributesService {
  constructor(
    private readonly repo: LocationRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private check(key: string): void {
    if (!KEY.test(key)) throw new DomainError(400, 'key must be 1-64 characters of A-Z a-z 0-9 _ . : -', 'key');
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

  async set(aor: string, key: string, value: unknown, domain = this.config.registrar.defaultDomain): Promise<string> {
    this.check(key);
    if (typeof value !== 'string') throw new DomainError(400, 'value must be a string', 'value');
    checkLength('attributeValue', value, 'value');
    await this.repo.setAttribute(domain, aor, key, value, Date.now());
    return value;
  }

  async delete(aor: string, key: string, domain = this.config.registrar.defaultDomain): Promise<void> {
    this.check(key);
    if (!(await this.repo.deleteAttribute(domain, aor, key)))
      throw new DomainError(404, `${aor} has no attribute ${key}`, 'key');
  }
}
