import { createResponse } from '../message/create-response';
import { parseMessage } from '../message/parser';
import { serializeMessage } from '../message/serializer';
import type { SipRequest } from '../message/sip-message';
import { copiedFields, packResponse, responseBytes, responseText, unpackResponse } from './packed-response';

describe('responseText / responseBytes', () => {
  it('keeps every byte of a response through its text', () => {
    const bytes = Buffer.from('SIP/2.0 200 OK\r\nTo: "Zoë" <sip:z@example.com>;tag=1\r\n\r\n', 'utf8');
    expect(responseBytes(responseText(bytes)).equals(bytes)).toBe(true);
  });
});

describe('packResponse / unpackResponse', () => {
  const request = (extra = ''): SipRequest =>
    parseMessage(
      Buffer.from(
        'SUBSCRIBE sip:p1@example.com SIP/2.0\r\n' +
          'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-77\r\n' +
          'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-66\r\n' +
          'From: <sip:w1@example.com>;tag=abc\r\n' +
          'To: <sip:p1@example.com>\r\n' +
          'Call-ID: 42-call@192.0.2.10\r\n' +
          'CSeq: 7 SUBSCRIBE\r\n' +
          'Max-Forwards: 70\r\n' +
          extra +
          'Content-Length: 0\r\n\r\n',
      ),
    ) as SipRequest;
  const fields = (req: SipRequest) => copiedFields(req, req.headers.getAll('via')[0]);
  const response = (req: SipRequest, body = '', tag = 'ourtag'): Buffer => {
    const res = createResponse(req, 200);
    res.headers.set('To', `${req.headers.get('To')};tag=${tag}`);
    res.headers.append('Expires', '600');
    if (body !== '') res.body = Buffer.from(body, 'latin1');
    return serializeMessage(res);
  };

  it('leaves out what the response copied from the request, and a retransmission puts it back byte for byte', () => {
    const req = request();
    const data = response(req);
    const record = packResponse(data, fields(req));
    expect(record.length).toBeLessThan(data.length - 90);
    expect(record).not.toContain('42-call@192.0.2.10');
    expect(record).toContain('Expires: 600');
    expect(unpackResponse(record, fields(request()))?.equals(data)).toBe(true);
  });

  it('keeps a response whole that holds the mark byte or none of the values', () => {
    const req = request();
    const marked = response(req, 'a\u0001b');
    expect(packResponse(marked, fields(req))).toBe(responseText(marked));
    expect(unpackResponse(responseText(marked), fields(req))?.equals(marked)).toBe(true);
    const other = 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n';
    expect(packResponse(Buffer.from(other, 'latin1'), fields(req))).toBe(other);
  });

  it('fills in the fields of the request in hand, and gives up when one is missing', () => {
    const record = packResponse(response(request()), fields(request()));
    const changed = request();
    changed.headers.set('Call-ID', 'other@192.0.2.10');
    expect(unpackResponse(record, fields(changed))?.toString('latin1')).toContain('Call-ID: other@192.0.2.10\r\n');
    changed.headers.delete('Call-ID');
    expect(unpackResponse(record, fields(changed))).toBeUndefined();
    expect(unpackResponse(record, copiedFields(request(), undefined))).toBeUndefined();
  });

  it('shares the text of responses that differ only in what they copied and in our tag, and keeps the tag alone', () => {
    const first = request();
    const text = serializeMessage(first).toString('latin1');
    const other = parseMessage(
      Buffer.from(text.replace('42-call', 'other').replace('w1@example.com>;tag=abc', 'w2@example.com>;tag=def')),
    ) as SipRequest;
    const a = response(first, '', 'tag-of-a');
    const b = response(other, '', 'tag-of-b');
    const recordA = packResponse(a, fields(first));
    const recordB = packResponse(b, fields(other));
    expect(recordA.endsWith('\u0002tag-of-a')).toBe(true);
    expect(recordB.endsWith('\u0002tag-of-b')).toBe(true);
    expect(recordA.slice(0, -'tag-of-a'.length)).toBe(recordB.slice(0, -'tag-of-b'.length));
    expect(unpackResponse(recordA, fields(request()))?.equals(a)).toBe(true);
    expect(unpackResponse(recordB, fields(other))?.equals(b)).toBe(true);
    // A tag followed by other parameters stays in the shared text's place, not split off.
    const params = response(first, '', 'x;p=1');
    const record = packResponse(params, fields(first));
    expect(record).not.toContain('\u0002');
    expect(unpackResponse(record, fields(first))?.equals(params)).toBe(true);
  });
});
