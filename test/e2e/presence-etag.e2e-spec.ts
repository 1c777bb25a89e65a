/**
 * Issue 12, point 10: the HTTP ETag of GET presence is the entity tag of the presentity's publication (the
 * SIP-ETag of RFC 3903), so it works as If-Match; with no publication or several there is none. Express's
 * own body-hash ETags are off everywhere.
 */
import type { RunningApp } from '../../src/app.factory';
import { api } from '../utils/e2e-helpers';
import { openClient, portsOf, uniqueAor } from '../utils/presence-e2e';
import { pidf } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

const path = (aor: string): string => `/api/presentities/${encodeURIComponent(aor)}/presence`;

describe.each(databaseKinds())('GET presence ETag on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  async function etagOf(aor: string, accept = 'application/json'): Promise<string | null> {
    const res = await fetch(`http://127.0.0.1:${app.httpPort}${path(aor)}`, { headers: { Accept: accept } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    return res.headers.get('etag');
  }

  it('is the SIP-ETag of a PUBLISHed state, in JSON and PIDF, and works as If-Match', async () => {
    const aor = uniqueAor('etag');
    const publisher = await openClient(portsOf(app), 'udp');
    try {
      const published = await publisher.publish({ uri: aor, event: 'presence', expires: 300, body: pidf(aor) });
      expect(published.status).toBe(200);
      const sipEtag = published.header('sip-etag')!;
      expect(await etagOf(aor)).toBe(`"${sipEtag}"`);
      expect(await etagOf(aor, 'application/pidf+xml')).toBe(`"${sipEtag}"`);

      const modified = await api(
        app.httpPort,
        'PUT',
        path(aor),
        { status: 'closed', note: 'via REST' },
        {
          'If-Match': (await etagOf(aor))!,
        },
      );
      expect(modified.status).toBe(200);
      const newTag = modified.json.etag as string;
      expect(newTag).not.toBe(sipEtag);
      expect(await etagOf(aor)).toBe(`"${newTag}"`);
      // The same publication, now under its new tag: SIP refreshes it with that tag.
      const refreshed = await publisher.publish({ uri: aor, event: 'presence', expires: 300, ifMatch: newTag });
      expect(refreshed.status).toBe(200);
      expect(await etagOf(aor)).toBe(`"${refreshed.header('sip-etag')!}"`);
    } finally {
      await publisher.close();
    }
  });

  it('is absent without a publication and with several (each etag is in the JSON)', async () => {
    const aor = uniqueAor('etag');
    expect(await etagOf(aor)).toBeNull();
    const a = await api(app.httpPort, 'PUT', path(aor), { status: 'open' });
    expect(await etagOf(aor)).toBe(`"${a.json.etag as string}"`);
    const b = await api(app.httpPort, 'PUT', path(aor), { status: 'closed' });
    expect(await etagOf(aor)).toBeNull();
    const state = await api(app.httpPort, 'GET', path(aor));
    const tags = (state.json.publications as { etag: string }[]).map((p) => p.etag).sort();
    expect(tags).toEqual([a.json.etag, b.json.etag].sort());
  });

  it('is never an Express body hash on other answers', async () => {
    const res = await fetch(`http://127.0.0.1:${app.httpPort}/api/subscriptions`);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBeNull();
  });
});
