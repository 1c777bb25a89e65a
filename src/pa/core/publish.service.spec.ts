import { createPresenceCore } from '../../../test/utils/presence-core-harness';
import { PackageError } from './event-package';
import type { PublishRequest } from './publication';
import { FakeClock, SequenceRandom } from '../../sip';

const pidf = (entity: string, note = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}">` +
  `<tuple id="t"><status><basic>open</basic></status><note>${note}</note></tuple></presence>`;

const initial = (presentity: string, body = pidf(presentity)): PublishRequest => ({
  presentity,
  event: 'presence',
  contentType: 'application/pidf+xml',
  body,
  source: 'test',
});

async function refusal(p: Promise<unknown>): Promise<PackageError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PackageError) return e;
    throw e;
  }
  throw new Error('expected a PackageError');
}

describe('PublishService limits', () => {
  it('refuses a new publication beyond pa.maxPublicationsPerPresentity with 403; the others stay and refresh', async () => {
    const core = createPresenceCore({ maxPublicationsPerPresentity: 3 });
    const aor = 'sip:cap@example.com';
    const tags: string[] = [];
    for (let i = 0; i < 3; i++) tags.push((await core.publisher.publish(initial(aor))).etag);
    const e = await refusal(core.publisher.publish(initial(aor)));
    expect(e.status).toBe(403);
    expect(e.reason).toContain('3 presence publications');
    expect(
      core.store
        .find(aor, 'presence')
        .map((p) => p.etag)
        .sort(),
    ).toEqual([...tags].sort());
    // Refreshing and modifying one of them is no new publication; another presentity has its own count.
    const refreshed = await core.publisher.publish({
      presentity: aor,
      event: 'presence',
      ifMatch: tags[0],
      source: 't',
    });
    expect(refreshed.expires).toBeGreaterThan(0);
    await core.publisher.publish({ ...initial(aor, pidf(aor, 'new')), ifMatch: refreshed.etag });
    await core.publisher.publish(initial('sip:other@example.com'));
    // Once one is removed there is room again.
    await core.publisher.publish({ presentity: aor, event: 'presence', ifMatch: tags[1], expires: 0, source: 't' });
    await core.publisher.publish(initial(aor));
    expect(core.store.find(aor, 'presence')).toHaveLength(3);
  });

  it("refuses a body over the package's largest size with 413, for initial and modifying PUBLISH", async () => {
    const core = createPresenceCore({ publishMaxBodySize: 1024 });
    const aor = 'sip:big@example.com';
    const big = pidf(aor, 'x'.repeat(1024));
    expect((await refusal(core.publisher.publish(initial(aor, big)))).status).toBe(413);
    const { etag } = await core.publisher.publish(initial(aor, pidf(aor, 'x'.repeat(800))));
    const e = await refusal(core.publisher.publish({ ...initial(aor, big), ifMatch: etag }));
    expect(e.status).toBe(413);
    expect(e.reason).toContain('1024 bytes');
    // Bytes, not characters: 400 two-byte characters are 800 bytes.
    expect((await refusal(core.publisher.publish(initial(aor, pidf(aor, 'é'.repeat(500)))))).status).toBe(413);
  });
});

describe('PublishService on the Clock and Random ports', () => {
  it('dates, tags and expires publications by the injected clock and randomness', async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const core = createPresenceCore({ clock, random: new SequenceRandom() });
    const aor = 'sip:clock@example.com';
    const { etag, publication } = await core.publisher.publish({ ...initial(aor), expires: 60 });
    expect(publication).toMatchObject({ createdAt: 1_800_000_000_000, expiresAt: 1_800_000_060_000 });
    expect(publication?.id).toBe('01a3185c-5000-7000-8000-000000000001');
    expect(etag).toBe(Buffer.from('2'.padStart(24, '0'), 'hex').toString('base64url'));
    clock.advance(59_000);
    expect(await core.publisher.expire()).toBe(0);
    expect(core.store.find(aor, 'presence')).toHaveLength(1);
    clock.advance(1_000);
    expect(core.store.find(aor, 'presence')).toHaveLength(0);
    expect(await core.publisher.expire()).toBe(1);
    expect(core.committed.size).toBe(0);
  });
});
