import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXml } from './xml-schema';

const XSD = join(__dirname, '..', 'fixtures', 'xsd');
const pidf = (basic: string, lang: string): string =>
  `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com">` +
  `<tuple id="t1"><status><basic>${basic}</basic></status></tuple><note xml:lang="${lang}">hi</note></presence>`;

describe('validateXml (libxml2-wasm, no system xmllint)', () => {
  it('accepts a valid document, xml:lang resolved through the schema import of xml.xsd', () => {
    expect(validateXml(pidf('open', 'en'), join(XSD, 'pidf.xsd'))).toEqual({ ok: true, errors: '' });
    const reginfo = '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"/>';
    expect(validateXml(reginfo, 'test/fixtures/xsd/reginfo.xsd')).toEqual({ ok: true, errors: '' });
  });

  it("accepts the README's sample document, examples/alice.pidf", () => {
    const sample = readFileSync(join(__dirname, '..', '..', 'examples', 'alice.pidf'), 'utf8');
    expect(validateXml(sample, join(XSD, 'pidf.xsd'))).toEqual({ ok: true, errors: '' });
  });

  it('rejects an invalid document with one line per fault', () => {
    const result = validateXml(pidf('opn', 'e n'), join(XSD, 'pidf.xsd'));
    expect(result.ok).toBe(false);
    expect(result.errors.split('\n')).toEqual([
      expect.stringMatching(/^-:1: Element '\{urn:ietf:params:xml:ns:pidf\}basic'.*'opn'/),
      expect.stringMatching(/^-:1: .*attribute '\{http:\/\/www.w3.org\/XML\/1998\/namespace\}lang'/),
    ]);
  });

  it('rejects a document that is not well-formed, and a schema that does not exist', () => {
    expect(validateXml('<presence', join(XSD, 'pidf.xsd'))).toEqual({ ok: false, errors: expect.any(String) });
    expect(validateXml('<x/>', join(XSD, 'none.xsd')).errors).toMatch(/ENOENT/);
  });
});
