import { systemClock } from '../sip';
import type { AppConfig } from '../config/app-config';
import { AorAttributesService, type AttributeChange } from './aor-attributes.service';
import type { LocationRepository } from './location.repository';

function setup() {
  const rows = new Map<string, string>();
  let loads = 0;
  let gate: Promise<void> = Promise.resolve();
  const repo = {
    listAttributes: async () => {
      loads++;
      const snapshot = Object.fromEntries(rows);
      await gate;
      return snapshot;
    },
    setAttribute: (_d: string, _a: string, key: string, value: string) => {
      rows.set(key, value);
      return Promise.resolve();
    },
    deleteAttribute: (_d: string, _a: string, key: string) => Promise.resolve(rows.delete(key)),
  } as unknown as LocationRepository;
  const config = { registrar: { defaultDomain: 'location' } } as AppConfig;
  const service = new AorAttributesService(repo, config, systemClock);
  const changes: AttributeChange[] = [];
  service.onChange((c) => changes.push(c));
  return {
    service,
    changes,
    loads: () => loads,
    hold: () => {
      let release: () => void = () => undefined;
      gate = new Promise<void>((r) => (release = r));
      return release;
    },
  };
}

const AOR = 'sip:alice@example.com';

describe('AorAttributesService', () => {
  it('reads an AoR from the database once, then from memory kept current by its own writes', async () => {
    const { service, changes, loads } = setup();
    await service.set(AOR, 'identities', 'sip:a@example.com');
    expect(await service.cached(AOR)).toEqual({ identities: 'sip:a@example.com' });
    await service.set(AOR, 'identities', 'sip:b@example.com');
    expect(await service.cached(AOR)).toEqual({ identities: 'sip:b@example.com' });
    await service.delete(AOR, 'identities');
    expect(await service.cached(AOR)).toEqual({});
    expect(loads()).toBe(1);
    expect(changes).toEqual([
      { domain: 'location', aor: AOR, key: 'identities', value: 'sip:a@example.com' },
      { domain: 'location', aor: AOR, key: 'identities', value: 'sip:b@example.com' },
      { domain: 'location', aor: AOR, key: 'identities' },
    ]);
  });

  it('does not keep a load that a write overtook', async () => {
    const { service, loads, hold } = setup();
    const release = hold();
    const stale = service.cached(AOR);
    await service.set(AOR, 'k', 'v');
    release();
    expect(await stale).toEqual({});
    expect(await service.cached(AOR)).toEqual({ k: 'v' });
    expect(loads()).toBe(2);
  });
});
