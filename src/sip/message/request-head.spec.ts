import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from './parser';
import { headResponse, parseRequestHead, requestMethod } from './request-head';
import { SipResponse } from './sip-message';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', name));
const source = { address: '192.0.2.99', port: 40000 };

describe('requestMethod', () => {
  it('reads the token before the first space, and nothing from junk', () => {
    expect(requestMethod(Buffer.from('PUBLISH sip:a@b SIP/2.0\r\n'))).toBe('PUBLISH');
    expect(requestMethod(Buffer.from('SIP/2.0 200 OK\r\n'))).toBe('SIP/2.0');
    expect(requestMethod(Buffer.from(' x'))).toBeUndefined();
    expect(requestMethod(Buffer.from('\r\n\r\n'))).toBeUndefined();
    expect(requestMethod(Buffer.from('A'.repeat(40)))).toBeUndefined();
  });
});

describe('parseRequestHead', () => {
  it('reads the fields a stateless answer copies from a typical SUBSCRIBE', () => {
    const head = parseRequestHead(fixture('subscribe-typical.sip'));
    expect(head).toMatchObject({
      method: 'SUBSCRIBE',
      via: ['SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9a1c2e;rport'],
      from: '"Alice" <sip:alice@example.com>;tag=9fxced76sl',
      to: '"Bob" <sip:bob@presence.example.com>',
      callId: '3848276298220188511@192.0.2.10',
      cseq: '1 SUBSCRIBE',
      inDialog: false,
    });
    expect(head?.topVia.branch).toBe('z9hG4bK74bf9a1c2e');
  });

  it('takes compact forms, every Via in order, and sees a To tag', () => {
    const head = parseRequestHead(fixture('parser-compact-forms.sip'));
    expect(head?.via).toHaveLength(2);
    expect(head?.topVia.host).toBe('client.example.com');
    expect(head?.callId).toBe('compact-1@example.com');
    expect(head?.inDialog).toBe(false);
    const tagged = Buffer.from(
      fixture('parser-compact-forms.sip')
        .toString('latin1')
        .replace('t: <sip:bob@example.com>', 't: <sip:bob@example.com>;tag=x'),
      'latin1',
    );
    expect(parseRequestHead(tagged)?.inDialog).toBe(true);
  });

  it('joins folded lines', () => {
    const head = parseRequestHead(fixture('parser-folded.sip'));
    expect(head?.to).toBe('<sip:bob@example.com>');
    expect(head?.topVia.branch).toBe('z9hG4bKfold1');
  });

  it('gives up on a missing field, leaving the request to the full parser', () => {
    expect(parseRequestHead(fixture('parser-missing-call-id.sip'))).toBeUndefined();
    expect(parseRequestHead(fixture('parser-response-200.sip'))).toBeUndefined();
  });
});

describe('headResponse', () => {
  it('builds a response the full parser reads, with received/rport stamped and a To tag', () => {
    const head = parseRequestHead(fixture('parser-compact-forms.sip'));
    const data = headResponse(head!, 503, 'Service Unavailable', 'shed1', source, { 'Retry-After': '2' });
    const res = parseMessage(data);
    expect(res).toBeInstanceOf(SipResponse);
    const r = res as SipResponse;
    expect(r.status).toBe(503);
    expect(r.via.map((v) => v.host)).toEqual(['client.example.com', 'proxy.example.com']);
    expect(r.via[0].received).toBe('192.0.2.99');
    expect(r.to.tag).toBe('shed1');
    expect(r.from.tag).toBe('c1');
    expect(r.callId).toBe('compact-1@example.com');
    expect(r.cseq).toEqual({ seq: 7, method: 'SUBSCRIBE' });
    expect(r.headers.get('retry-after')).toBe('2');
    expect(r.body.length).toBe(0);
  });

  it('fills rport with the source port', () => {
    const head = parseRequestHead(fixture('subscribe-typical.sip'));
    const r = parseMessage(headResponse(head!, 503, 'Service Unavailable', 't', source)) as SipResponse;
    expect(r.via[0].rport).toBe(40000);
    expect(r.via[0].received).toBe('192.0.2.99');
  });
});
