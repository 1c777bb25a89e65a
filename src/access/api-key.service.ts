import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { parseAor } from '../common/aor';
import { DomainError } from '../common/domain-error';
import { FIELD_LIMITS } from '../common/field-limits';
import { timeOrderedId } from '../common/ids';
import { CLOCK, RANDOM } from '../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Clock, Random } from '../sip';
import { ApiKeyRepository, type ApiKeyRecord } from './api-key.repository';
import { ROLES, type Principal, type Role } from './principal';

/** Every key starts with this, so that a leaked one is recognisable (secret scanners, logs). */
export const KEY_PREFIX = 'ph_';
/** `ph_` and 43 base64url characters: 32 random bytes. */
const KEY_SHAPE = /^ph_[A-Za-z0-9_-]{43}$/;
/** Checked keys remembered at most; the cache is emptied when it is full. */
const CACHE_MAX = 10_000;

/** What creating a key asks for. */
export interface NewApiKey {
  readonly role: Role;
  readonly aor?: string;
  readonly label?: string;
  readonly expiresAt?: number;
}

const sha256 = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Reads a request to create a key, naming the field at fault (REST body, `npm run key:create` options). */
export function readNewApiKey(input: Record<string, unknown>, now: number): NewApiKey {
  const role = input.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new DomainError(400, `role must be one of ${ROLES.join(', ')}`, 'role');
  }
  let aor: string | undefined;
  if (role === 'user') aor = parseAor(input.aor, 'aor');
  else if (input.aor !== undefined && input.aor !== null) {
    throw new DomainError(400, 'aor is only for user keys: an admin key acts for every AoR', 'aor');
  }
  const label = input.label ?? '';
  const max = FIELD_LIMITS.apiKeyLabel.max;
  if (typeof label !== 'string' || label.length > max || /\p{Cc}/u.test(label)) {
    throw new DomainError(400, `label must be a string of at most ${max} characters`, 'label');
  }
  let expiresAt: number | undefined;
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    expiresAt = typeof input.expiresAt === 'string' ? Date.parse(input.expiresAt) : NaN;
    if (!Number.isFinite(expiresAt) || expiresAt <= now) {
      throw new DomainError(400, 'expiresAt must be a future date such as 2030-01-01T00:00:00Z', 'expiresAt');
    }
  }
  return {
    role: role as Role,
    ...(aor !== undefined && { aor }),
    label,
    ...(expiresAt !== undefined && { expiresAt }),
  };
}

/**
 * API keys: `ph_` and 32 random bytes (base64url), shown once when created; only their SHA-256 is stored.
 * A key is an admin's (everything) or a user's (its own AoR only). Checking a key costs a hash and a Map
 * look-up; the database is asked when the key was not seen within auth.apiKeyCacheSeconds.
 */
@Injectable()
export class ApiKeyService {
  private readonly cache = new Map<string, { principal: Principal | undefined; expiresAt?: number; until: number }>();

  constructor(
    private readonly repo: ApiKeyRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) private readonly random: Random,
  ) {}

  /** Creates a key; the returned `key` is the only time the secret exists outside the caller. */
  async create(input: NewApiKey): Promise<{ record: ApiKeyRecord; key: string }> {
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const now = this.clock.now();
    const record: ApiKeyRecord = {
      id: timeOrderedId(now, this.random),
      hash: sha256(key),
      prefix: key.slice(0, KEY_PREFIX.length + 6),
      role: input.role,
      ...(input.aor !== undefined && { aor: input.aor }),
      label: input.label ?? '',
      createdAt: now,
      ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
    };
    await this.repo.insert(record);
    return { record, key };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.repo.list();
  }

  async get(id: string): Promise<ApiKeyRecord> {
    const k = await this.repo.byId(id);
    if (!k) throw new DomainError(404, `no API key with id ${JSON.stringify(id)}`, 'id');
    return k;
  }

  /** Revokes a key at once on this instance (others within auth.apiKeyCacheSeconds). */
  async revoke(id: string): Promise<void> {
    const k = await this.get(id);
    if (!(await this.repo.remove(id))) throw new DomainError(404, `no API key with id ${JSON.stringify(id)}`, 'id');
    this.cache.delete(k.hash);
  }

  /** The principal of a presented key, or undefined when it is unknown, malformed or expired. */
  async verify(key: string): Promise<Principal | undefined> {
    if (!KEY_SHAPE.test(key)) return undefined;
    const hash = sha256(key);
    const now = this.clock.now();
    let entry = this.cache.get(hash);
    if (entry === undefined || entry.until <= now) {
      const k = await this.repo.byHash(hash);
      const principal: Principal | undefined = k && {
        keyId: k.id,
        role: k.role,
        ...(k.aor !== undefined && { aor: k.aor }),
      };
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      entry = {
        principal,
        ...(k?.expiresAt !== undefined && { expiresAt: k.expiresAt }),
        until: now + this.config.auth.apiKeyCacheSeconds * 1000,
      };
      this.cache.set(hash, entry);
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) return undefined;
    return entry.principal;
  }

  /** Creates an admin key when none (unexpired) exists; returns its secret, or undefined when one exists. */
  async ensureAdminKey(): Promise<{ record: ApiKeyRecord; key: string } | undefined> {
    if (await this.repo.hasAdmin(this.clock.now())) return undefined;
    return this.create({ role: 'admin', label: 'created at first start' });
  }
}
