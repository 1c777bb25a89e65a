import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXml } from '../../../test/utils/xml-schema';
import { PackageError } from '../core/event-package';
import { pidfToJson, validatePidf } from './pidf';
import { closedPidf, composePidf, openPidf, pidfFromStatus, toTupleId } from './pidf-compose';

const FIXTURES = join(__dirname, '../../../test/fixtures');
const XSD = join(FIXTURES, 'xsd/pidf.xsd');
const fixture = (name: string): string => readFileSync(join(FIXTURES, 'pidf', name), 'utf8');
const ALICE = 'sip:alice@example.com';

function expectSchemaValid(xml: string): void {
  const result = validateXml(xml, XSD);
  if (!result.ok) throw new Error(`${result.errors}\n--- document:\n${xml}`);
}

describe('composePidf', () => {
  it('composes two publications: all tuples, then notes, then extensions', () => {
    const xml = composePidf(ALICE, [fixture('rpid.xml'), fixture('plain.xml')]);
    expectSchemaValid(xml);
    const doc = validatePidf(xml);
    expect(doc.entity).toBe(ALICE);
    expect(doc.tuples.map((t) => [t.id, t.basic])).toEqual([
      ['t8a2', 'open'],
      ['sg89ae', 'open'],
    ]);
    expect(doc.notes.map((n) => n.text)).toEqual(['Away & busy <until 5>']);
    expect(doc.raw.extensions.map((e) => e.local)).toEqual(['person', 'device']);
    expect(xml).toContain('<rpid:on-the-phone/>');
    expect(xml).toContain('<dm:deviceID>mac:8asd7d7d70</dm:deviceID>');
  });

  it('keeps extension content as written (RPID activities, attributes, whitespace)', () => {
    const xml = composePidf(ALICE, [fixture('rpid.xml')]);
    expect(xml).toContain(
      '<rpid:user-input idle-threshold="600" last-input="2004-10-21T13:20:00.000-05:00">idle</rpid:user-input>',
    );
    const again = composePidf(ALICE, [xml]);
    expect(again).toBe(xml);
  });

  it('makes duplicate tuple ids unique and keeps ids xs:ID-safe', () => {
    const one =
      '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"><tuple id="1"><status/></tuple></presence>';
    const xml = composePidf(ALICE, [fixture('rpid.xml'), fixture('rpid.xml'), one, one]);
    expectSchemaValid(xml);
    expect(validatePidf(xml).tuples.map((t) => t.id)).toEqual(['t8a2', 't8a2-2', 't1', 't1-2']);
  });

  it('keeps person, device and tuple ids unique across publications (RFC 4479 ids are xs:ID)', () => {
    const clash =
      '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" ' +
      'entity="sip:a@b"><tuple id="p1"><status/></tuple><dm:person id="t8a2"/></presence>';
    const xml = composePidf(ALICE, [fixture('rpid.xml'), fixture('rpid.xml'), clash]);
    expectSchemaValid(xml);
    const ids = [...xml.matchAll(/<[\w:]+ [^>]*\bid="([^"]*)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['t8a2', 't8a2-2', 'p1', 'p1-2', 'pc122', 'p1-3', 'pc122-2', 't8a2-3']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(validatePidf(xml).raw.extensions.map((e) => e.local)).toEqual([
      'person',
      'device',
      'person',
      'device',
      'person',
    ]);
  });

  it('keeps namespaces valid when two documents bind one prefix differently', () => {
    const xml = composePidf(ALICE, [fixture('rpid.xml'), fixture('prefixed.xml')]);
    expectSchemaValid(xml);
    const doc = validatePidf(xml);
    expect(doc.raw.extensions.map((e) => `${e.ns} ${e.local}`)).toEqual([
      'urn:ietf:params:xml:ns:pidf:data-model person',
      'urn:ietf:params:xml:ns:pidf:data-model device',
      'urn:example:not-data-model person',
      'urn:example:other gadget',
    ]);
    const inner = doc.raw.extensions[3].children.find((c) => c.kind === 'element');
    expect(inner).toMatchObject({ local: 'inner', ns: 'urn:example:other' });
    expect(doc.tuples.map((t) => [t.id, t.basic, t.notes[0]?.text])).toEqual([
      ['t8a2', 'open', undefined],
      ['t8a2-2', 'closed', 'phone off'],
    ]);
  });

  it('keeps an element of a source without default namespace out of the PIDF namespace', () => {
    const src =
      '<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" xmlns:e="urn:e" entity="sip:x@y">' +
      '<p:tuple id="a"><p:status/></p:tuple><e:x><plain/></e:x></p:presence>';
    const xml = composePidf(ALICE, [src]);
    expectSchemaValid(xml);
    const ext = validatePidf(xml).raw.extensions[0];
    expect(ext.children[0]).toMatchObject({ local: 'plain', ns: '' });
  });

  it('percent-encodes contacts that are not valid xs:anyURI (IPv6 in a sip: URI)', () => {
    const xml = composePidf(ALICE, [fixture('rpid.xml')]);
    expectSchemaValid(xml);
    expect(validatePidf(xml).tuples[0].contact).toBe('sip:alice@%5B2001:db8::10%5D:5060;transport=tcp');
  });

  it('escapes a hostile entity', () => {
    const xml = composePidf('sip:"><evil/>&amp;@x', [fixture('plain.xml')]);
    expectSchemaValid(xml);
    expect(validatePidf(xml).entity).toBe('sip:"><evil/>&amp;@x');
  });

  it('writes an empty but valid document without publications', () => {
    const xml = composePidf(ALICE, []);
    expectSchemaValid(xml);
    expect(validatePidf(xml).tuples).toHaveLength(0);
  });

  it('rejects a bad raw body with 400', () => {
    expect(() => composePidf(ALICE, [fixture('wrong-root.xml')])).toThrow(PackageError);
  });
});

describe('closedPidf / openPidf', () => {
  it('closed: one tuple, basic closed', () => {
    const xml = closedPidf(ALICE);
    expectSchemaValid(xml);
    expect(pidfToJson(validatePidf(xml))).toEqual({
      entity: ALICE,
      basic: 'closed',
      tuples: [{ id: 'pa-closed', basic: 'closed' }],
    });
  });

  it('open: registrar source with contact, priority, note and timestamp', () => {
    const xml = openPidf(ALICE, {
      contact: 'sip:alice@[::1]:5062;transport=ws',
      priority: 0.12345,
      note: 'Registered <via> WS & more',
      timestamp: Date.UTC(2024, 0, 2, 3, 4, 5),
    });
    expectSchemaValid(xml);
    expect(pidfToJson(validatePidf(xml))).toEqual({
      entity: ALICE,
      basic: 'open',
      note: 'Registered <via> WS & more',
      tuples: [
        {
          id: 'pa-open',
          basic: 'open',
          contact: 'sip:alice@%5B::1%5D:5062;transport=ws',
          note: 'Registered <via> WS & more',
          priority: 0.123,
          timestamp: '2024-01-02T03:04:05.000Z',
        },
      ],
    });
  });

  it('rejects an empty entity and control characters', () => {
    expect(() => closedPidf('  ')).toThrow(/empty presence entity/);
    expect(() => openPidf(ALICE, { note: 'a\u0007' })).toThrow(/U\+0007/);
    expect(() => openPidf(ALICE, { timestamp: 'yesterday' })).toThrow(/dateTime/);
    expect(() => openPidf(ALICE, { timestamp: NaN })).toThrow(/dateTime/);
  });
});

describe('pidfFromStatus', () => {
  it('builds the same kind of document a SIP PUBLISH carries', () => {
    const xml = pidfFromStatus('sip:bob@example.com', { status: 'open', note: 'At lunch & back at 2' });
    expectSchemaValid(xml);
    expect(pidfToJson(validatePidf(xml))).toEqual({
      entity: 'sip:bob@example.com',
      basic: 'open',
      note: 'At lunch & back at 2',
      tuples: [{ id: 'status', basic: 'open', note: 'At lunch & back at 2' }],
    });
  });

  it('takes a tuple id and makes it xs:ID-safe', () => {
    const xml = pidfFromStatus(ALICE, { status: 'closed', tupleId: '42 web' });
    expectSchemaValid(xml);
    expect(validatePidf(xml).tuples[0]).toMatchObject({ id: 't42_web', basic: 'closed' });
  });

  it.each([
    [{ status: 'away' }, /status must be "open" or "closed"/],
    [{ status: 'open', note: 5 }, /note must be a string/],
    [{ status: 'open', tupleId: '' }, /tupleId/],
  ])('rejects %j', (input, reason) => {
    expect(() => pidfFromStatus(ALICE, input as never)).toThrow(reason);
  });
});

describe('toTupleId', () => {
  it.each([
    ['abc', 'abc'],
    ['1', 't1'],
    ['a:b c', 'a_b_c'],
    ['-x', 't-x'],
  ])('%s → %s', (id, safe) => {
    expect(toTupleId(id)).toBe(safe);
  });
});
