import { buildResponse } from '../transaction/incoming-request';
import { parseMessage } from './parser';
import { responseText, type ResponseFields } from './response-text';
import { serializeMessage } from './serializer';
import type { SipRequest } from './sip-message';

function request(lines: string[]): SipRequest {
  return parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n')) as SipRequest;
}

const subscribe = request([
  'SUBSCRIBE sip:bob@example.com SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport, SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp',
  'Via: SIP/2.0/UDP edge.example.com;branch=z9hG4bKe',
  'f: "Alice" <sip:alice@example.com>;tag=a1',
  'To: <sip:bob@example.com>',
  'i: c1@10.0.0.1',
  'CSeq: 7 SUBSCRIBE',
  'Timestamp: 54.3',
  'Event: presence',
  'Content-Length: 0',
]);
const inDialog = request([
  'NOTIFY sip:alice@10.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2',
  'From: <sip:bob@example.com>;tag=b1',
  'To: <sip:alice@example.com>;tag=a1',
  'Call-ID: c2',
  'CSeq: 1 NOTIFY',
  'Content-Length: 0',
]);

/** The response as a message, stamped and serialized: what the text must equal byte for byte. */
function asMessage(
  req: SipRequest,
  status: number,
  reason: string | undefined,
  fields: ResponseFields | undefined,
  body: { contentType: string; body: Buffer | string } | undefined,
  tag: string | undefined,
  topVia: string | undefined,
): Buffer {
  const res = buildResponse(req, status, reason, fields, body, tag);
  const vias = res.headers.getAll('via');
  if (topVia !== undefined) res.headers.set('Via', [topVia, ...vias.slice(1)]);
  return serializeMessage(res);
}

describe('responseText (a response written without a message object, RFC 3261 §8.2.6)', () => {
  const stampedTop = 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=5070;received=10.0.0.9';
  const cases: [
    string,
    SipRequest,
    number,
    string | undefined,
    ResponseFields | undefined,
    { contentType: string; body: Buffer | string } | undefined,
    string | undefined,
    string | undefined,
  ][] = [
    [
      '200 with a tag, stamped Via, fields',
      subscribe,
      200,
      undefined,
      { Expires: '600', contact: '<sip:bob@10.0.0.3>' },
      undefined,
      't1',
      stampedTop,
    ],
    ['100 copies Timestamp, no tag', subscribe, 100, 'Trying', undefined, undefined, undefined, stampedTop],
    [
      'repeated fields and compact names',
      subscribe,
      200,
      'OK',
      { m: ['<sip:a@h1>', '<sip:b@h2>'], Supported: [], 'Min-Expires': '60' },
      undefined,
      't2',
      undefined,
    ],
    [
      'a text body (UTF-8 length)',
      subscribe,
      200,
      'OK',
      { Expires: '1' },
      { contentType: 'application/pidf+xml', body: '<note>Grüße</note>' },
      't3',
      stampedTop,
    ],
    [
      'a byte body',
      subscribe,
      488,
      'Not Acceptable Here',
      undefined,
      { contentType: 'text/plain', body: Buffer.from('x y') },
      't4',
      stampedTop,
    ],
    ['in a dialog: the To tag stays', inDialog, 200, 'OK', undefined, undefined, 'other', undefined],
    ['a reason phrase from the table', inDialog, 481, undefined, undefined, undefined, undefined, undefined],
  ];
  it.each(cases)('%s: the same bytes as the message', (_label, req, status, reason, fields, body, tag, top) => {
    const vias = req.headers.getAll('via');
    if (top !== undefined) vias[0] = top;
    const text = responseText(req, status, reason, fields, body, tag, vias);
    expect(text?.toString('utf8')).toBe(asMessage(req, status, reason, fields, body, tag, top).toString('utf8'));
  });

  it('leaves a field that replaces a copied one, or one named twice, to the message', () => {
    expect(responseText(subscribe, 200, 'OK', { To: '<sip:x@example.com>' }, undefined, 't', [])).toBeUndefined();
    expect(
      responseText(subscribe, 200, 'OK', { Contact: '<sip:a@h>', m: '<sip:b@h>' }, undefined, 't', []),
    ).toBeUndefined();
    expect(responseText(subscribe, 200, 'OK', { 'content-length': '5' }, undefined, 't', [])).toBeUndefined();
  });
});
