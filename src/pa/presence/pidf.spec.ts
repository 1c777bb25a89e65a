import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PackageError } from '../core/event-package';
import { pidfToJson, sameAor, validatePidf } from './pidf';

const FIXTURES = join(__dirname, '../../../test/fixtures/pidf');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const PIDF = (inner: string, attrs = 'entity="sip:alice@example.com"'): string =>
  `<presence xmlns="urn:ietf:params:xml:ns:pidf" ${attrs}>${inner}</presence>`;
const OPEN = '<tuple id="a"><status><basic>open</basic></status></tuple>';

function rejection(body: string): PackageError {
  try {
    validatePidf(body);
  } catch (e) {
    if (e instanceof PackageError) return e;
    throw e;
  }
  throw new Error('document was accepted');
}

describe('validatePidf', () => {
  it('parses a plain RFC 3863 document', () => {
    const doc = validatePidf(fixture('plain.xml'));
    expect(doc.entity).toBe('pres:someone@example.com');
    expect(doc.tuples).toEqual([
      {
        id: 'sg89ae',
        basic: 'open',
        contact: 'tel:+09012345678',
        priority: 0.8,
        notes: [{ text: "Don't Disturb Please!", lang: 'en' }],
        timestamp: '2001-10-27T16:49:29Z',
      },
    ]);
    expect(doc.notes).toEqual([{ text: 'Away & busy <until 5>' }]);
    expect(doc.raw.extensions).toHaveLength(0);
  });

  it('keeps RPID person, data-model device and tuple extensions as raw elements', () => {
    const doc = validatePidf(fixture('rpid.xml'));
    expect(doc.tuples.map((t) => [t.id, t.basic, t.contact])).toEqual([
      ['t8a2', 'open', 'sip:alice@[2001:db8::10]:5060;transport=tcp'],
    ]);
    expect(doc.raw.extensions.map((e) => [e.ns, e.local])).toEqual([
      ['urn:ietf:params:xml:ns:pidf:data-model', 'person'],
      ['urn:ietf:params:xml:ns:pidf:data-model', 'device'],
    ]);
    const tupleChildren = doc.raw.tuples[0].children.map((c) => (c.kind === 'element' ? c.local : '#text'));
    expect(tupleChildren).toEqual(['status', 'deviceID', 'contact']);
  });

  it('accepts any prefix for the PIDF namespace and resolves other defaults', () => {
    const doc = validatePidf(fixture('prefixed.xml'));
    expect(doc.tuples[0]).toMatchObject({ id: 't8a2', basic: 'closed', notes: [{ text: 'phone off' }] });
    expect(doc.raw.extensions.map((e) => e.ns)).toEqual(['urn:example:not-data-model', 'urn:example:other']);
  });

  it('puts tuple children in schema order and trims basic', () => {
    const doc = validatePidf(
      PIDF('<tuple id="x"><note>n</note><contact>sip:a@b</contact><status><basic> closed </basic></status></tuple>'),
    );
    expect(doc.tuples[0].basic).toBe('closed');
    const order = doc.raw.tuples[0].children.map((c) => (c.kind === 'element' ? c.local : '#text'));
    expect(order).toEqual(['status', 'contact', 'note']);
  });

  it('accepts a status with only extensions (no basic)', () => {
    const doc = validatePidf(PIDF('<tuple id="x"><status><e:x xmlns:e="urn:e">1</e:x></status></tuple>'));
    expect(doc.tuples[0].basic).toBeUndefined();
  });

  it('decodes entities, character references and CDATA; strips a BOM; normalises CRLF', () => {
    const doc = validatePidf(
      `\uFEFF<?xml version="1.0"?>\r\n${PIDF('<note>&#x41;&#66;&apos;&quot;<![CDATA[<&>]]>\r\nx</note>')}`,
    );
    expect(doc.notes[0].text).toBe(`AB'"<&>\nx`);
  });

  it('reports whether the entity names the presentity', () => {
    expect(validatePidf(fixture('plain.xml'), 'sip:someone@EXAMPLE.com').entityMatches).toBe(true);
    expect(validatePidf(fixture('plain.xml'), 'sip:other@example.com').entityMatches).toBe(false);
    expect(validatePidf(fixture('plain.xml')).entityMatches).toBeUndefined();
  });

  describe('rejects with 400 naming the fault', () => {
    const cases: [string, string, RegExp][] = [
      ['malformed XML with line and column', fixture('bad-xml.xml'), /^malformed XML at line 3, column \d+: .*status/],
      ['a wrong root element', fixture('wrong-root.xml'), /root element must be <presence>, not <presense>/],
      ['a wrong namespace', fixture('wrong-namespace.xml'), /must be in namespace urn:ietf:params:xml:ns:pidf/],
      ['a missing entity', fixture('missing-entity.xml'), /without entity attribute/],
      ['a tuple without status', fixture('tuple-without-status.xml'), /tuple "a" has no <status>/],
      ['a DOCTYPE with entities (billion laughs, XXE)', fixture('entity-attack.xml'), /DTD .* not allowed/],
      ['an ENTITY declaration alone', `<!ENTITY x "y">${PIDF(OPEN)}`, /DTD .* not allowed/],
      ['text that was not UTF-8', fixture('latin1.xml'), /not valid UTF-8/],
      ['an encoding other than UTF-8', `<?xml version="1.0" encoding="ISO-8859-1"?>${PIDF(OPEN)}`, /ISO-8859-1/],
      ['an empty body', '', /empty body/],
      ['a blank body', ' \r\n ', /empty body/],
      ['a control character', PIDF('<note>\u0001</note>'), /U\+0001/],
      ['an undefined entity', PIDF('<note>&nbsp;</note>'), /undefined entity reference &nbsp;/],
      ['a bad character reference', PIDF('<note>&#0;</note>'), /character reference/],
      ['"<" in an attribute', PIDF(OPEN, 'entity="sip:a<b"'), /contains "<"/],
      ['two roots', PIDF(OPEN) + PIDF(OPEN), /root/],
      ['an unbound prefix', PIDF('<x:y/>'), /unbound namespace prefix "x"/],
      ['a tuple without id', PIDF('<tuple><status/></tuple>'), /<tuple> without id/],
      ['a bad basic', PIDF('<tuple id="a"><status><basic>away</basic></status></tuple>'), /open or closed, not "away"/],
      ['two status', PIDF('<tuple id="a"><status/><status/></tuple>'), /more than one <status>/],
      ['a bad priority', PIDF('<tuple id="a"><status/><contact priority="2">sip:x@y</contact></tuple>'), /qvalue/],
      [
        'a bad timestamp',
        PIDF('<tuple id="a"><status/><timestamp>2001-02-30T00:00:00Z</timestamp></tuple>'),
        /dateTime/,
      ],
      ['an unknown PIDF element', PIDF('<tuple id="a"><status/><foo/></tuple>'), /unknown PIDF element <foo>/],
      ['an element in no namespace', PIDF('<x xmlns=""/>'), /<x> in <presence> has no namespace/],
      ['a bad xml:lang', PIDF('<note xml:lang="not a tag">x</note>'), /xml:lang "not a tag"/],
      ['a nested presence', PIDF(`<e:x xmlns:e="urn:e">${PIDF('')}</e:x>`), /nested <presence>/],
      [
        'a bad mustUnderstand',
        PIDF('<e:x xmlns:e="urn:e" xmlns:p="urn:ietf:params:xml:ns:pidf" p:mustUnderstand="yes"/>'),
        /boolean/,
      ],
      ['a reserved tag name', PIDF('<__proto__ xmlns="urn:e"/>'), /malformed XML/],
    ];
    it.each(cases)('%s', (_name, body, reason) => {
      const err = rejection(body);
      expect(err.status).toBe(400);
      expect(err.reason).toMatch(reason);
    });
  });

  it('drops xsi:type and xsi:nil from extensions', () => {
    const doc = validatePidf(
      PIDF('<e:x xmlns:e="urn:e" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="e:t" a="1"/>'),
    );
    expect(doc.raw.extensions[0].attrs.map((a) => a.name)).toEqual(['xmlns:e', 'xmlns:xsi', 'a']);
  });
});

describe('sameAor', () => {
  it.each([
    ['sip:alice@example.com', 'pres:alice@example.com', true],
    ['<sip:alice@Example.COM:5060;transport=udp>', 'alice@example.com', true],
    ['sips:al%69ce@example.com', 'sip:alice@example.com', true],
    ['sip:alice@example.com', 'sip:Alice@example.com', false],
    ['sip:alice@example.com', 'sip:alice@example.org', false],
  ])('%s ~ %s → %s', (a, b, same) => {
    expect(sameAor(a, b)).toBe(same);
  });
});

describe('pidfToJson', () => {
  it('summarises a document: open if any tuple is open, first note', () => {
    const doc = validatePidf(
      PIDF(
        '<tuple id="c"><status><basic>closed</basic></status><note>off</note></tuple>' +
          '<tuple id="o"><status><basic>open</basic></status><contact priority="0.5">sip:a@b</contact>' +
          '<note>on</note><timestamp>2024-01-01T00:00:00Z</timestamp></tuple>',
      ),
    );
    expect(pidfToJson(doc)).toEqual({
      entity: 'sip:alice@example.com',
      basic: 'open',
      note: 'on',
      tuples: [
        { id: 'c', basic: 'closed', note: 'off' },
        { id: 'o', basic: 'open', contact: 'sip:a@b', note: 'on', priority: 0.5, timestamp: '2024-01-01T00:00:00Z' },
      ],
    });
  });

  it('prefers the document note and is closed when no tuple is open', () => {
    const doc = validatePidf(PIDF('<tuple id="c"><status/></tuple><note>gone</note>'));
    expect(pidfToJson(doc)).toEqual({
      entity: 'sip:alice@example.com',
      basic: 'closed',
      note: 'gone',
      tuples: [{ id: 'c' }],
    });
  });
});
