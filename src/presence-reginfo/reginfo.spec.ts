import { join } from 'node:path';
import { validateXml } from '../../test/utils/xml-schema';
import { PackageError } from '../pa/core/event-package';
import { parseReginfo, reginfoXml, type Reginfo } from './reginfo';

const XSD = join(__dirname, '..', '..', 'test', 'fixtures', 'xsd', 'reginfo.xsd');

const published = `<?xml version="1.0"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" xmlns:gr="urn:ietf:params:xml:ns:gruuinfo" version="3" state="full">
  <registration aor="sip:alice@example.com" id="a7" state="active">
    <contact id="76" state="active" event="registered" expires="3600" duration-registered="12" q="0.8" callid="c1@h" cseq="4">
      <uri>sip:alice@pc887.example.com</uri>
      <display-name>Alice &amp; Co</display-name>
      <unknown-param name="+sip.instance">"&lt;urn:uuid:1&gt;"</unknown-param>
      <gr:pub-gruu uri="sip:alice@example.com;gr=urn:uuid:1"/>
    </contact>
  </registration>
</reginfo>`;

function faultOf(body: string): string {
  try {
    parseReginfo(body);
  } catch (e) {
    expect(e).toBeInstanceOf(PackageError);
    expect((e as PackageError).status).toBe(400);
    return (e as PackageError).reason;
  }
  throw new Error('accepted');
}

describe('reginfo documents (RFC 3680 §5)', () => {
  it('reads a published document, leaving extensions out', () => {
    const doc = parseReginfo(published);
    expect(doc).toEqual({
      version: 3,
      state: 'full',
      registrations: [
        {
          aor: 'sip:alice@example.com',
          id: 'a7',
          state: 'active',
          contacts: [
            {
              id: '76',
              state: 'active',
              event: 'registered',
              uri: 'sip:alice@pc887.example.com',
              expires: 3600,
              durationRegistered: 12,
              q: '0.8',
              callid: 'c1@h',
              cseq: 4,
              displayName: 'Alice & Co',
              unknownParams: [{ name: '+sip.instance', value: '"<urn:uuid:1>"' }],
            },
          ],
        },
      ],
    });
  });

  it('writes what it reads, valid against the schema', () => {
    const xml = reginfoXml(parseReginfo(published));
    expect(validateXml(xml, XSD).errors).toBe('');
    expect(parseReginfo(xml)).toEqual(parseReginfo(published));
  });

  it('writes an empty registration and an empty document validly', () => {
    const doc: Reginfo = {
      version: 0,
      state: 'full',
      registrations: [{ aor: 'sip:bob@example.com', id: 'r1', state: 'init', contacts: [] }],
    };
    expect(validateXml(reginfoXml(doc), XSD).errors).toBe('');
    expect(validateXml(reginfoXml({ version: 9, state: 'partial', registrations: [] }), XSD).errors).toBe('');
  });

  it.each([
    ['<reginfo', 'malformed XML'],
    ['<reginfo xmlns="urn:other" version="0" state="full"/>', 'namespace urn:ietf:params:xml:ns:reginfo'],
    ['<presence xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"/>', 'must be <reginfo>'],
    ['<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full"/>', 'no version'],
    ['<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="-1" state="full"/>', 'version="-1"'],
    ['<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="some"/>', 'reginfo state "some"'],
    [
      '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"><registration aor="sip:a@b" id="r" state="busy"/></reginfo>',
      'registration r state "busy"',
    ],
    [
      '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"><registration aor="sip:a@b" id="r" state="active"><contact id="c" state="active" event="moved"><uri>sip:x@y</uri></contact></registration></reginfo>',
      'contact c event "moved"',
    ],
    [
      '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"><registration aor="sip:a@b" id="r" state="active"><contact id="c" state="active" event="created"/></registration></reginfo>',
      'one <uri>',
    ],
    [
      '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"><registration id="r" state="active"/></reginfo>',
      'no aor',
    ],
  ])('refuses %s naming the fault', (body, what) => {
    expect(faultOf(body)).toContain(what);
  });
});
