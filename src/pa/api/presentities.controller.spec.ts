import type { Response } from 'express';
import { notePackage } from '../../../test/utils/note-package';
import { createPresenceCore, type PresenceCore } from '../../../test/utils/presence-core-harness';
import { versionedPackage } from '../../../test/utils/versioned-package';
import { DomainError } from '../../common/domain-error';
import { PackageError } from '../core/event-package';
import { fromPackageError } from './package-error.mapping';
import { PresenceApiService } from './presence-api.service';
import { parseIfMatch } from './presence-input';
import { negotiate, PresentitiesController } from './presentities.controller';
import { SubscriptionsController } from './subscriptions.controller';

class FakeResponse {
  readonly headers: Record<string, string> = {};
  vary(): this {
    return this;
  }
  type(t: string): this {
    this.headers['content-type'] = t;
    return this;
  }
  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  asResponse(): Response {
    return this as unknown as Response;
  }
}

async function domainError(p: Promise<unknown> | (() => unknown)): Promise<DomainError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('PresentitiesController', () => {
  let core: PresenceCore;
  let ctl: PresentitiesController;
  const aor = 'sip:alice@example.com';
  const JSON_CT = 'application/json';

  beforeEach(() => {
    core = createPresenceCore();
    ctl = new PresentitiesController(new PresenceApiService(core.packages, core.notifier, core.store, core.publisher));
  });

  const put = (
    body: unknown,
    opts: { ct?: string; ifMatch?: string; expires?: string; event?: string; query?: string } = {},
  ) => {
    const res = new FakeResponse();
    return ctl
      .put(
        aor,
        opts.event ?? 'presence',
        opts.query,
        opts.expires,
        opts.ct ?? JSON_CT,
        opts.ifMatch,
        body,
        res.asResponse(),
      )
      .then((dto) => ({ dto, res }));
  };
  const get = (event: string, accept?: string, res = new FakeResponse()) =>
    ctl.get(aor, event, undefined, accept, res.asResponse());
  const remove = (event: string, ifMatch?: string, res = new FakeResponse()) =>
    ctl.remove(aor, event, undefined, ifMatch, res.asResponse());

  it('publishes a JSON status and reads it back as JSON and as PIDF', async () => {
    const { dto, res } = await put({ status: 'open', note: 'hi', expires: 600 });
    expect(dto.expires).toBe(600);
    expect(res.headers.etag).toBe(`"${dto.etag}"`);
    const json = (await get('presence')) as Record<string, unknown>;
    expect(JSON.stringify(json)).toContain('hi');
    expect(json.publications).toEqual([expect.objectContaining({ etag: dto.etag, source: 'rest' })]);
    const res2 = new FakeResponse();
    const xml = await get('presence', 'application/pidf+xml', res2);
    expect(res2.headers['content-type']).toBe('application/pidf+xml');
    expect(xml).toContain('<basic>open</basic>');
  });

  it('modifies with If-Match, refreshes with an empty body, and answers 412 for an unknown tag', async () => {
    const first = await put({ status: 'open' });
    const modified = await put({ status: 'closed', note: 'away' }, { ifMatch: `"${first.dto.etag}"` });
    expect(modified.dto.etag).not.toBe(first.dto.etag);
    expect(core.store.find(aor, 'presence')).toHaveLength(1);
    const refreshed = await put(undefined, { ct: '', ifMatch: modified.dto.etag, expires: '120' });
    expect(refreshed.dto.expires).toBe(120);
    expect(core.store.find(aor, 'presence')[0].body).toContain('away');
    const jsonRefresh = await put({ expires: 300 }, { ifMatch: refreshed.dto.etag });
    expect(jsonRefresh.dto.expires).toBe(300);
    expect(core.store.find(aor, 'presence')[0].body).toContain('away');
    const err = await domainError(put({ status: 'open' }, { ifMatch: '"nope"' }));
    expect(err).toMatchObject({ status: 412, field: 'If-Match' });
  });

  it('takes a raw PIDF body', async () => {
    const pidf =
      '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com">' +
      '<tuple id="t1"><status><basic>open</basic></status></tuple></presence>';
    const { dto } = await put(pidf, { ct: 'application/pidf+xml; charset=utf-8', expires: '300' });
    expect(dto.expires).toBe(300);
    expect(core.store.find(aor, 'presence')[0].contentType).toBe('application/pidf+xml');
    const bad = await domainError(put('<nope/>', { ct: 'application/pidf+xml' }));
    expect(bad).toMatchObject({ status: 400, field: 'body' });
    const wrongType = await domainError(put('<x/>', { ct: 'application/reginfo+xml' }));
    expect(wrongType).toMatchObject({ status: 415, field: 'Content-Type' });
  });

  it.each([
    [{ status: 'away' }, 'status'],
    [{}, 'status'],
    [{ status: 'open', note: 3 }, 'note'],
    [{ status: 'open', expires: 1.5 }, 'expires'],
    [{ status: 'open', expires: -1 }, 'expires'],
    [{ status: 'open', expires: '60' }, 'expires'],
    [{ status: 'open', expires: 10 }, 'expires'],
    [{ status: 'open', expires: 0 }, 'expires'],
    [{ status: 'open', mood: 'happy' }, 'mood'],
    [[1], 'body'],
  ])('refuses %j with 400 naming %s', async (body, field) => {
    const err = await domainError(put(body));
    expect(err).toMatchObject({ status: 400, field });
    expect(err.message).toContain(field);
  });

  it('names the minimum in the 423-turned-400', async () => {
    const err = await domainError(put({ status: 'open', expires: 10 }));
    expect(err.message).toBe('expires is too short: at least 60 seconds');
  });

  it('refuses a bad AoR, an unknown event (404 listing the known ones) and a query event naming another', async () => {
    const res = new FakeResponse().asResponse();
    await expect(domainError(ctl.get('nonsense', 'presence', undefined, undefined, res))).resolves.toMatchObject({
      field: 'aor',
    });
    const unknown = await domainError(get('weather'));
    expect(unknown).toMatchObject({ status: 404, field: 'event' });
    expect(unknown.message).toContain('known: presence');
    await expect(domainError(put({ status: 'open' }, { event: 'weather' }))).resolves.toMatchObject({ status: 404 });
    await expect(domainError(remove('weather'))).resolves.toMatchObject({ status: 404, field: 'event' });
    await expect(domainError(ctl.get(aor, 'presence', 'reg', undefined, res))).resolves.toMatchObject({
      status: 400,
      field: 'event',
    });
    expect(await ctl.get(aor, 'presence', 'Presence', undefined, res)).toMatchObject({ basic: 'closed' });
  });

  it('deletes one publication by If-Match, all without, and 404s when there is none', async () => {
    const a = await put({ status: 'open' });
    await put({ status: 'closed' });
    await remove('presence', `"${a.dto.etag}"`);
    expect(core.store.find(aor, 'presence')).toHaveLength(1);
    await remove('presence');
    expect(core.store.find(aor, 'presence')).toHaveLength(0);
    await expect(domainError(remove('presence'))).resolves.toMatchObject({ status: 404 });
    await expect(domainError(remove('presence', '"gone"'))).resolves.toMatchObject({ status: 412 });
  });
});

describe('PresentitiesController for any registered event package', () => {
  let core: PresenceCore;
  let ctl: PresentitiesController;
  const aor = 'sip:carol@example.com';

  beforeEach(() => {
    core = createPresenceCore();
    core.packages.add(notePackage());
    core.packages.add(versionedPackage());
    ctl = new PresentitiesController(new PresenceApiService(core.packages, core.notifier, core.store, core.publisher));
  });

  const put = (event: string, body: unknown, ct = 'application/json', ifMatch?: string, res = new FakeResponse()) =>
    ctl.put(aor, event, undefined, undefined, ct, ifMatch, body, res.asResponse());

  it("publishes the package's JSON form and raw documents, and reads its JSON and its document", async () => {
    const first = await put('note', { text: 'lunch', expires: 120 });
    expect(first.expires).toBe(120);
    expect(core.store.find(aor, 'note')[0]).toMatchObject({ contentType: 'text/plain', body: 'lunch', source: 'rest' });
    const res = new FakeResponse();
    expect(await ctl.get(aor, 'note', undefined, undefined, res.asResponse())).toEqual({
      notes: [{ text: 'lunch', etag: first.etag }],
    });
    expect(res.headers.etag).toBe(`"${first.etag}"`);
    const modified = await put('note', 'back at two', 'text/plain; charset=utf-8', first.etag);
    const doc = new FakeResponse();
    expect(await ctl.get(aor, 'NOTE', undefined, 'text/plain', doc.asResponse())).toBe('back at two');
    expect(doc.headers['content-type']).toBe('text/plain');
    // JSON without document fields refreshes; then DELETE removes.
    const refreshed = await put('note', { expires: 300 }, 'application/json', modified.etag);
    expect(refreshed.expires).toBe(300);
    expect(core.store.find(aor, 'note')[0].body).toBe('back at two');
    await ctl.remove(aor, 'note', undefined, undefined, new FakeResponse().asResponse());
    expect(core.store.find(aor, 'note')).toHaveLength(0);
    expect(core.store.find(aor, 'presence')).toHaveLength(0);
  });

  it('names the JSON field at fault, refuses unknown fields and other types', async () => {
    await expect(domainError(put('note', {}))).resolves.toMatchObject({ status: 400, field: 'text' });
    await expect(domainError(put('note', { text: 7 }))).resolves.toMatchObject({ status: 400, field: 'text' });
    await expect(domainError(put('note', { text: 'a', status: 'open' }))).resolves.toMatchObject({
      status: 400,
      field: 'status',
      message: expect.stringContaining('allowed: text, expires'),
    });
    await expect(domainError(put('note', 'two\nlines', 'text/plain'))).resolves.toMatchObject({
      status: 400,
      field: 'body',
    });
    await expect(domainError(put('note', '<x/>', 'application/pidf+xml'))).resolves.toMatchObject({
      status: 415,
      field: 'Content-Type',
    });
  });

  it('answers PUT and DELETE for a package without publications with 405 naming event, GET with its state', async () => {
    const res = new FakeResponse();
    const err = await domainError(put('versioned', { text: 'x' }, 'application/json', undefined, res));
    expect(err).toMatchObject({ status: 405, field: 'event' });
    expect(err.message).toContain('publishable: note, presence');
    expect(res.headers.allow).toBe('GET, HEAD');
    await expect(
      domainError(ctl.remove(aor, 'versioned', undefined, undefined, new FakeResponse().asResponse())),
    ).resolves.toMatchObject({ status: 405, field: 'event' });
    const doc = await ctl.get(aor, 'versioned', undefined, 'text/plain', new FakeResponse().asResponse());
    expect(doc).toBe('v0 all full:');
  });
});

describe('SubscriptionsController', () => {
  it('lists watchers of every kind with filters and validates them', async () => {
    const core = createPresenceCore();
    const ctl = new SubscriptionsController(core.registry, core.clock);
    const now = Date.now();
    const base = { accept: [], status: 'active' as const, expiresAt: now + 60_000, createdAt: now, event: 'presence' };
    await core.subscriptions.add({
      ...base,
      kind: 'ws',
      id: 'w',
      presentity: 'sip:a@x.org',
      watcher: 'ws:1',
      client: '1',
      clientId: '1',
    });
    await core.subscriptions.add({
      ...base,
      kind: 'internal',
      id: 'i',
      owner: 'test',
      presentity: 'sip:b@x.org',
      watcher: 'b2b',
      deliver: () => undefined,
    });
    expect(ctl.list().total).toBe(2);
    const only = ctl.list('a@x.org');
    expect(only.items).toEqual([
      {
        id: 'w',
        kind: 'ws',
        presentity: 'sip:a@x.org',
        event: 'presence',
        watcher: 'ws:1',
        status: 'active',
        expiresAt: new Date(now + 60_000).toISOString(),
        expires: 60,
      },
    ]);
    expect(ctl.list(undefined, undefined, 'internal').items.map((s) => s.id)).toEqual(['i']);
    expect(ctl.list(undefined, 'reg').total).toBe(0);
    await expect(domainError(() => ctl.list(undefined, undefined, 'carrier-pigeon'))).resolves.toMatchObject({
      field: 'kind',
    });
    await expect(domainError(() => ctl.list('??'))).resolves.toMatchObject({ field: 'presentity' });
  });
});

describe('API input helpers', () => {
  it('negotiates the PIDF document only when asked for before JSON', () => {
    const types = ['application/pidf+xml'];
    expect(negotiate(undefined, types)).toBeUndefined();
    expect(negotiate('application/pidf+xml', types)).toBe('application/pidf+xml');
    expect(negotiate('application/json, application/pidf+xml', types)).toBeUndefined();
    expect(negotiate('application/json;q=0.5, application/pidf+xml', types)).toBe('application/pidf+xml');
    expect(negotiate('text/html, */*', types)).toBeUndefined();
    expect(negotiate('application/pidf+xml;q=0', types)).toBeUndefined();
  });

  it('reads If-Match', () => {
    expect(parseIfMatch('"abc"')).toBe('abc');
    expect(parseIfMatch('W/"abc"')).toBe('abc');
    expect(parseIfMatch('abc')).toBe('abc');
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(() => parseIfMatch('*')).toThrow(DomainError);
    expect(() => parseIfMatch('"a", "b"')).toThrow(/one entity tag/);
  });

  it('maps package errors', () => {
    expect(fromPackageError(new PackageError(423, 'Interval Too Brief', { 'Min-Expires': '60' }))).toMatchObject({
      status: 400,
      field: 'expires',
      message: 'expires is too short: at least 60 seconds',
    });
    expect(fromPackageError(new PackageError(489, 'Bad Event', { 'Allow-Events': 'presence' }))).toMatchObject({
      status: 400,
      field: 'event',
    });
    expect(fromPackageError(new PackageError(400, 'note contains character U+0001'), ['note'])).toMatchObject({
      field: 'note',
    });
    expect(fromPackageError(new PackageError(400, 'note contains character U+0001'))).toMatchObject({
      field: 'body',
      message: 'body: note contains character U+0001',
    });
    expect(fromPackageError(new PackageError(403, 'Forbidden (sip:a@b.c has 16 presence publications)'))).toMatchObject(
      {
        status: 403,
        field: 'aor',
        message: 'aor: sip:a@b.c has 16 presence publications; refresh, modify or remove one with If-Match',
      },
    );
    expect(fromPackageError(new PackageError(413, 'Request Entity Too Large (over 9 bytes)'))).toMatchObject({
      status: 413,
      field: 'body',
      message: 'body is too large: over 9 bytes',
    });
    expect(fromPackageError(new PackageError(503, 'Service Unavailable'))).toMatchObject({ status: 503 });
    const other = new Error('x');
    expect(fromPackageError(other)).toBe(other);
  });
});
