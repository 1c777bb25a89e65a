import { createResponse } from './create-response';
import { parseMessage } from './parser';
import { reasonPhrase } from './reason-phrase';
import { serializeMessage } from './serializer';
import { SipHeaders } from './sip-headers';
import { SipRequest } from './sip-message';
import { SipUri } from './sip-uri';
import { splitList } from './text';

describe('SipHeaders (RFC 3261 §7.3)', () => {
  it('finds headers case-insensitively and by compact form', () => {
    const h = SipHeaders.from([
      ['v', 'SIP/2.0/UDP a;branch=z9hG4bK1'],
      ['CALL-ID', 'x'],
    ]);
    expect(h.get('Via')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
    expect(h.get('i')).toBe('x');
    expect(h.has('call-id')).toBe(true);
    expect([...h]).toEqual([
      ['Via', 'SIP/2.0/UDP a;branch=z9hG4bK1'],
      ['CALL-ID', 'x'],
    ]);
  });

  it('splits list headers respecting quotes and angle brackets', () => {
    const h = new SipHeaders();
    h.append('Contact', '"Doe, John" <sip:j@x;p=a,b>, <sip:k@y>');
    h.append('contact', 'sip:l@z');
    h.append('Subject', 'a, b');
    expect(h.getAll('m')).toEqual(['"Doe, John" <sip:j@x;p=a,b>', '<sip:k@y>', 'sip:l@z']);
    expect(h.getAll('subject')).toEqual(['a, b']);
    expect(splitList(' a ,, b ')).toEqual(['a', 'b']);
  });

  it('set replaces in place, delete removes all, names get canonical spelling', () => {
    const h = SipHeaders.from({ Via: ['v1', 'v2'], To: 't', 'call-id': 'c' });
    h.set('via', 'v3');
    expect([...h]).toEqual([
      ['Via', 'v3'],
      ['To', 't'],
      ['Call-ID', 'c'],
    ]);
    expect(h.delete('TO')).toBe(true);
    expect(h.has('to')).toBe(false);
    h.prepend('Via', 'v0');
    expect(h.getAll('via')).toEqual(['v0', 'v3']);
  });

  it('createResponse copies Via, From, To, Call-ID, CSeq (§8.2.6)', () => {
    const req = new SipRequest(
      'SUBSCRIBE',
      SipUri.parse('sip:b@example.com'),
      SipHeaders.from({
        Via: ['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;branch=z9hG4bK2'],
        From: '<sip:a@example.com>;tag=1',
        To: '<sip:b@example.com>',
        'Call-ID': 'c1',
        CSeq: '1 SUBSCRIBE',
        Contact: '<sip:a@1.2.3.4>',
      }),
    );
    const res = createResponse(req, 489);
    expect(res.reason).toBe('Bad Event');
    expect(res.headers.getAll('via')).toHaveLength(2);
    expect(res.headers.has('contact')).toBe(false);
    const text = serializeMessage(res).toString();
    expect(text.startsWith('SIP/2.0 489 Bad Event\r\n')).toBe(true);
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
    expect(parseMessage(Buffer.from(text)).cseq).toEqual({ seq: 1, method: 'SUBSCRIBE' });
  });

  it('reasonPhrase falls back to the class', () => {
    expect(reasonPhrase(423)).toBe('Interval Too Brief');
    expect(reasonPhrase(499)).toBe('Bad Request');
    expect(reasonPhrase(299)).toBe('OK');
  });
});
