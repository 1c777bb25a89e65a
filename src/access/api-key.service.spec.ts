import { loadConfig } from '../config/load-config';
import { cryptoRandom, FakeClock } from '../sip';
import type { ApiKeyRecord, ApiKeyRepository } from './api-key.repository';
import { ApiKeyService, readNewApiKey } from './api-key.service';

/** The repository's contract in memory, counting look-ups. */
class MemoryKeys {
  readonly rows = new Map<string, ApiKeyRecord>();
  lookups = 0;
  byHash(hash: string): Promise<ApiKeyRecord | undefined> {
    this.lookups++;
    return Promise.resolve([...this.rows.values()].find((r) => r.hash === hash));
  }
  byId(id: string): Promise<ApiKeyRecord | undefined> {
    return Promise.resolve(this.rows.get(id));
  }
  list(): Promise<ApiKeyRecord[]> {
    return Promise.resolve([...this.rows.values()]);
  }
  hasAdmin(now: number): Promise<boolean> {
    return Promise.resolve(
      [...this.rows.values()].some((r) => r.role === 'admin' && (r.expiresAt === undefined || r.expiresAt > now)),
    );
  }
  insert(k: ApiKeyRecord): Promise<void> {
    this.rows.set(k.id, k);
    return Promise.resolve();
  }
  remove(id: string): Promise<boolean> {
    return Promise.resolve(this.rows.delete(id));
  }
}

describe('ApiKeyService', () => {
  let clock: FakeClock;
  let repo: MemoryKeys;
  let keys: ApiKeyService;

  beforeEach(() => {
    clock = new FakeClock();
    repo = new MemoryKeys();
    keys = new ApiKeyService(
      repo as unknown as ApiKeyRepository,
      loadConfig({ AUTH_API_KEY_CACHE_SECONDS: '10' }),
      clock,
      cryptoRandom,
    );
  });

  it('stores only the SHA-256 of a new key and knows it by the key', async () => {
    const { record, key } = await keys.create({ role: 'user', aor: 'sip:alice@example.com' });
    expect(key).toMatch(/^ph_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify([...repo.rows.values()])).not.toContain(key.slice(10));
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.prefix).toBe(key.slice(0, 9));
    expect(await keys.verify(key)).toEqual({ keyId: record.id, role: 'user', aor: 'sip:alice@example.com' });
    expect(await keys.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await keys.verify('not a key')).toBeUndefined();
  });

  it('asks the database again only after the cache time', async () => {
    const { key } = await keys.create({ role: 'admin' });
    await keys.verify(key);
    await keys.verify(key);
    expect(repo.lookups).toBe(1);
    clock.advance(10_000);
    await keys.verify(key);
    expect(repo.lookups).toBe(2);
  });

  it('refuses a key past its expiry, also while cached', async () => {
    const { key } = await keys.create({ role: 'admin', expiresAt: clock.now() + 5000 });
    expect(await keys.verify(key)).toBeDefined();
    clock.advance(5000);
    expect(await keys.verify(key)).toBeUndefined();
  });

  it('forgets a revoked key at once', async () => {
    const { record, key } = await keys.create({ role: 'admin' });
    await keys.verify(key);
    await keys.revoke(record.id);
    expect(await keys.verify(key)).toBeUndefined();
    await expect(keys.revoke(record.id)).rejects.toMatchObject({ status: 404, field: 'id' });
  });

  it('creates an admin key only when no live one exists', async () => {
    const first = await keys.ensureAdminKey();
    expect(first?.record.role).toBe('admin');
    expect(await keys.ensureAdminKey()).toBeUndefined();
    await keys.revoke(first!.record.id);
    expect(await keys.ensureAdminKey()).toBeDefined();
  });
});

describe('readNewApiKey', () => {
  const now = Date.parse('2026-12-02T00:00:00Z');

  it('takes a user key with its AoR, label and expiry', () => {
    expect(
      readNewApiKey({ role: 'user', aor: 'alice@Example.com', label: 'phone', expiresAt: '2027-01-01T00:00:00Z' }, now),
    ).toEqual({ role: 'user', aor: 'sip:alice@example.com', label: 'phone', expiresAt: Date.parse('2027-01-01') });
  });

  it.each([
    [{ role: 'root' }, 'role'],
    [{ role: 'user' }, 'aor'],
    [{ role: 'admin', aor: 'sip:a@example.com' }, 'aor'],
    [{ role: 'admin', label: 'x'.repeat(129) }, 'label'],
    [{ role: 'admin', expiresAt: '2020-01-01' }, 'expiresAt'],
    [{ role: 'admin', expiresAt: 'soon' }, 'expiresAt'],
  ])('refuses %j naming %s', (input, field) => {
    expect(() => readNewApiKey(input, now)).toThrow(expect.objectContaining({ status: 400, field }));
  });
});
