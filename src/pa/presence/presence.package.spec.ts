import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXml } from '../../../test/utils/xml-schema';
import { ContactView, PackageError, PresentityState, PublicationView, WatcherView } from '../core/event-package';
import { validatePidf } from './pidf';
import { pidfFromStatus } from './pidf-compose';
import { acceptsAny, createPresencePackage, presenceJsonPublishing, presentityUri } from './presence.package';

const FIXTURES = join(__dirname, '../../../test/fixtures');
const XSD = join(FIXTURES, 'xsd/pidf.xsd');
const fixture = (name: string): string => readFileSync(join(FIXTURES, 'pidf', name), 'utf8');
const NOW = 1_700_000_000_000;
const PIDF_TYPE = 'application/pidf+xml';
const watcher: WatcherView = { kind: 'sip', uri: 'sip:bob@example.com', accept: [] };

const options = {
  defaultExpires: 3600,
  minExpires: 60,
  maxExpires: 7200,
  publishMinExpires: 30,
  publishMaxExpires: 3600,
  registrarSource: true,
};

function publication(
  body: string,
  etag: string,
  modifiedAt: number,
  extra: Partial<PublicationView> = {},
): PublicationView {
  return {
    etag,
    contentType: PIDF_TYPE,
    body,
    expiresAt: NOW + 60_000,
    modifiedAt,
    source: 'sip:alice@example.com',
    ...extra,
  };
}

function contact(expiresAt: number, uri = 'sip:alice@192.0.2.1:5060', q?: number): ContactView {
  return {
    id: uri,
    uri,
    expiresAt,
    callId: 'c',
    cseq: 1,
    registeredAt: NOW - 1000,
    event: 'registered',
    ...(q !== undefined && { q }),
  };
}

function state(publications: PublicationView[] = [], contacts: ContactView[] = []): PresentityState {
  return { presentity: 'alice@example.com', event: 'presence', publications, contacts, now: NOW };
}

describe('presence package', () => {
  const pkg = createPresencePackage(options);

  it('declares its name, content types, expires and registrar following', () => {
    expect(pkg.name).toBe('presence');
    expect(pkg.notifyContentTypes).toEqual([PIDF_TYPE]);
    expect(pkg.subscribeExpires).toEqual({ default: 3600, min: 60, max: 7200 });
    expect(pkg.publish?.contentTypes).toEqual([PIDF_TYPE]);
    expect(pkg.publish?.expires).toEqual({ default: 3600, min: 30, max: 3600 });
    expect(pkg.followsRegistrations).toBe(true);
    expect(createPresencePackage({ ...options, registrarSource: false }).followsRegistrations).toBe(false);
  });

  describe('publish.validate', () => {
    it('accepts PIDF, with parameters on the type, even for another entity (like Kamailio)', () => {
      expect(() => {
        pkg.publish!.validate('application/PIDF+xml; charset=UTF-8', fixture('plain.xml'), 'sip:alice@example.com');
      }).not.toThrow();
    });

    it('answers 415 with Accept for other types', () => {
      try {
        pkg.publish!.validate('application/xpidf+xml', fixture('plain.xml'), 'sip:alice@example.com');
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(PackageError);
        expect(e).toMatchObject({ status: 415, reason: 'Unsupported Media Type', headers: { Accept: PIDF_TYPE } });
      }
    });

    it('answers 400 naming the fault for bad PIDF', () => {
      expect(() => {
        pkg.publish!.validate(PIDF_TYPE, fixture('tuple-without-status.xml'), 'sip:alice@example.com');
      }).toThrow(expect.objectContaining({ status: 400, reason: 'tuple "a" has no <status>' }));
    });
  });

  describe('render', () => {
    it('composes live publications, newest first, with the presentity as sip: entity', () => {
      const older = publication(fixture('plain.xml'), 'e1', NOW - 5000);
      const newer = publication(fixture('rpid.xml'), 'e2', NOW - 1000);
      const expired = publication(
        pidfFromStatus('sip:alice@example.com', { status: 'closed', tupleId: 'gone' }),
        'e3',
        NOW,
        {
          expiresAt: NOW,
        },
      );
      const other = publication('<x/>', 'e4', NOW, { contentType: 'application/xpidf+xml' });
      const body = pkg.render(state([older, newer, expired, other], [contact(NOW + 1)]), watcher);
      expect(body?.contentType).toBe(PIDF_TYPE);
      expect(validateXml(body!.body, XSD).errors).toBe('');
      const doc = validatePidf(body!.body);
      expect(doc.entity).toBe('sip:alice@example.com');
      expect(doc.tuples.map((t) => t.id)).toEqual(['t8a2', 'sg89ae']);
    });

    it('skips a stored body that no longer validates', () => {
      const body = pkg.render(
        state([publication('<broken', 'e1', NOW), publication(fixture('plain.xml'), 'e2', NOW - 1)]),
        watcher,
      );
      expect(validatePidf(body!.body).tuples.map((t) => t.id)).toEqual(['sg89ae']);
    });

    it('is open with the best live contact when registered and nobody published', () => {
      const contacts = [
        contact(NOW - 1, 'sip:old@192.0.2.9'),
        contact(NOW + 1, 'sip:a@192.0.2.1', 0.5),
        contact(NOW + 1, 'sip:b@192.0.2.2', 0.9),
      ];
      const body = pkg.render(state([], contacts), watcher)!.body;
      expect(validateXml(body, XSD).errors).toBe('');
      expect(validatePidf(body).tuples).toEqual([
        { id: 'pa-open', basic: 'open', contact: 'sip:b@192.0.2.2', priority: 0.9, notes: [] },
      ]);
    });

    it('is closed when nobody published and no binding is live, or the registrar source is off', () => {
      const closed = (b: string | undefined): string | undefined => validatePidf(b!).tuples[0].basic;
      expect(closed(pkg.render(state([], [contact(NOW)]), watcher)?.body)).toBe('closed');
      const noRegistrar = createPresencePackage({ ...options, registrarSource: false });
      expect(closed(noRegistrar.render(state([], [contact(NOW + 1000)]), watcher)?.body)).toBe('closed');
    });

    it('renders PIDF whatever the watcher accepts, once per state', () => {
      const s = state([publication(fixture('plain.xml'), 'e1', NOW)]);
      const a = pkg.render(s, { ...watcher, accept: ['application/xpidf+xml'] });
      const b = pkg.render(s, { kind: 'ws', uri: 'carol', accept: [] });
      expect(a?.contentType).toBe(PIDF_TYPE);
      expect(b).toBe(a);
    });
  });

  describe('toJson', () => {
    it('gives the composed state, the publications and whether the presentity is registered', () => {
      const s = state(
        [
          publication(pidfFromStatus('sip:alice@example.com', { status: 'open', note: 'in the office' }), 'e1', NOW, {
            source: 'rest',
          }),
        ],
        [contact(NOW + 1)],
      );
      expect(pkg.toJson(s)).toEqual({
        entity: 'sip:alice@example.com',
        basic: 'open',
        note: 'in the office',
        tuples: [{ id: 'status', basic: 'open', note: 'in the office' }],
        publications: [{ etag: 'e1', expiresAt: new Date(NOW + 60_000).toISOString(), source: 'rest' }],
        registered: true,
      });
    });

    it('is closed and unregistered for an unknown presentity', () => {
      expect(pkg.toJson(state())).toEqual({
        entity: 'sip:alice@example.com',
        basic: 'closed',
        tuples: [{ id: 'pa-closed', basic: 'closed' }],
        publications: [],
        registered: false,
      });
    });
  });
});

describe('acceptsAny', () => {
  it.each([
    [[], true],
    [['application/pidf+xml'], true],
    [['*/*'], true],
    [['application/*'], true],
    [['application/xpidf+xml', 'application/pidf+xml;q=0.5'], true],
    [['application/xpidf+xml'], false],
    [['text/*'], false],
    [['application/pidf+xml;q=0'], false],
  ])('%j → %s', (accept, ok) => {
    expect(acceptsAny(accept, [PIDF_TYPE])).toBe(ok);
  });
});

describe('presentityUri', () => {
  it.each([
    ['alice@example.com', 'sip:alice@example.com'],
    ['pres:alice@example.com', 'sip:alice@example.com'],
    ['sips:alice@example.com', 'sips:alice@example.com'],
  ])('%s → %s', (p, uri) => {
    expect(presentityUri(p)).toBe(uri);
  });
});

describe('presence JSON form (REST and WebSocket publish)', () => {
  const { fields, fromJson } = presenceJsonPublishing;

  it('maps {status, note, tupleId} to a valid PIDF document for the presentity', () => {
    expect(fields).toEqual(['status', 'note', 'tupleId']);
    const doc = fromJson('alice@example.com', { status: 'open', note: 'At my desk', tupleId: 'desk' });
    expect(doc.contentType).toBe('application/pidf+xml');
    expect(validatePidf(doc.body, 'sip:alice@example.com')).toMatchObject({
      entity: 'sip:alice@example.com',
      tuples: [expect.objectContaining({ id: 'desk', basic: 'open' })],
    });
    expect(doc.body).toContain('<note>At my desk</note>');
  });

  it.each([
    [{}, /^status is required/],
    [{ note: 'x' }, /^status is required/],
    [{ status: 'away' }, /^status must be "open" or "closed", got "away"/],
    [{ status: 'open', note: 3 }, /^note must be a string/],
    [{ status: 'open', tupleId: '' }, /^tupleId must be/],
    [{ status: 'open', note: 'a\u0001' }, /^note contains character U\+0001/],
  ])('refuses %j with a 400 whose reason starts with the field', (input, reason) => {
    expect(() => fromJson('sip:a@b.c', input)).toThrow(PackageError);
    expect(() => fromJson('sip:a@b.c', input)).toThrow(reason);
  });
});
