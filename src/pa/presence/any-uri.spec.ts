import { join } from 'node:path';
import { validateXml } from '../../../test/utils/xml-schema';
import { isAnyUri, toAnyUri } from './any-uri';
import { escapeAttr } from '../../common/xml/xml-tree';

const XSD = join(__dirname, '../../../test/fixtures/xsd/pidf.xsd');

/** One document with every value as a tuple contact, so a single validation checks them all. */
function documentOf(values: readonly string[]): string {
  const tuples = values
    .map((v, i) => `<tuple id="t${i}"><status/><contact>${escapeAttr(v)}</contact></tuple>`)
    .join('');
  return `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b">${tuples}</presence>`;
}

// A small deterministic generator (mulberry32) over characters that stress URI parsing.
function randomValues(count: number, seed: number): string[] {
  let s = seed;
  const next = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const alphabet = [
    'sip:',
    'a',
    'Z',
    '0',
    '@',
    ':',
    '/',
    '//',
    '?',
    '#',
    '%',
    '%2',
    '%41',
    '[',
    ']',
    ';',
    '=',
    ' ',
    'é',
    '"',
    '<',
    '.',
  ];
  return Array.from({ length: count }, () => {
    let v = '';
    const n = Math.floor(next() * 12);
    for (let i = 0; i < n; i++) v += alphabet[Math.floor(next() * alphabet.length)];
    return v;
  });
}

describe('isAnyUri / toAnyUri', () => {
  const known = ['sip:alice@example.com;transport=tcp', 'tel:+1-555', 'http://[::1]:80/x?y#z', '', 'pres:ü@x'];
  const bad = ['sip:alice@[2001:db8::1]:5060', '%zz', 'a#b#c', ':', 'x:[', 'http://a:b/'];

  it('accepts ordinary URIs as they are', () => {
    for (const v of known) expect(toAnyUri(v)).toBe(v);
  });

  it('repairs what libxml2 rejects', () => {
    expect(validateXml(documentOf(bad), XSD).ok).toBe(false);
    for (const v of bad) expect(isAnyUri(v)).toBe(false);
    expect(toAnyUri('sip:alice@[2001:db8::1]:5060')).toBe('sip:alice@%5B2001:db8::1%5D:5060');
    const result = validateXml(documentOf(bad.map(toAnyUri)), XSD);
    expect(result.errors).toBe('');
  });

  it('never calls a value valid that libxml2 rejects, and always repairs (randomised)', () => {
    const values = randomValues(1500, 3856);
    const claimed = values.filter((v) => isAnyUri(v));
    expect(validateXml(documentOf(claimed), XSD).errors).toBe('');
    expect(validateXml(documentOf(values.map(toAnyUri)), XSD).errors).toBe('');
  });
});
