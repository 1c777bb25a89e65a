import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from '../message/parser';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { SipUri } from '../message/sip-uri';
import { Dialog } from './dialog';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', name)).toString('latin1');
const subscribe = (extra = ''): SipRequest =>
  parseMessage(
    Buffer.from(fixture('subscribe-typical.sip').replace('Event: presence\r\n', `Event: presence\r\n${extra}`)),
  ) as SipRequest;

describe('Dialog (RFC 3261 §12, RFC 6665)', () => {
  it('UAS side from a SUBSCRIBE: tags, URIs, target, route set in Record-Route order', () => {
    const req = subscribe('Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n');
    const d = Dialog.fromRequest(req, 'ourtag', {
      protocol: 'udp',
      localAddress: '0.0.0.0',
      localPort: 5060,
      remoteAddress: '192.0.2.10',
      remotePort: 5060,
    });
    expect(d.callId).toBe(req.callId);
    expect(d.remoteTag).toBe('9fxced76sl');
    expect(d.localTag).toBe('ourtag');
    expect(d.remoteTarget.toString()).toBe('sip:alice@192.0.2.10:5060;transport=udp');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.remoteSeq).toBe(1);

    const n1 = d.createRequest(
      'NOTIFY',
      { Event: 'presence', 'Subscription-State': 'active;expires=3600' },
      { contentType: 'application/pidf+xml', body: '<presence/>' },
    );
    const n2 = d.createRequest('NOTIFY');
    expect(n1.uri.toString()).toBe('sip:alice@192.0.2.10:5060;transport=udp');
    expect(n1.route).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(n1.from.tag).toBe('ourtag');
    expect(n1.from.uri.aor()).toBe('sip:bob@presence.example.com');
    expect(n1.from.displayName).toBe('Bob');
    expect(n1.to.tag).toBe('9fxced76sl');
    expect(n1.to.uri.aor()).toBe('sip:alice@example.com');
    expect(n1.cseq).toEqual({ seq: 1, method: 'NOTIFY' });
    expect(n2.cseq.seq).toBe(2);
    expect(n1.contentType).toBe('application/pidf+xml');
    expect(n1.body.toString()).toBe('<presence/>');
  });

  it('strict routing (§12.2.1.1): first route becomes the Request-URI, remote target goes last', () => {
    const d = Dialog.fromRequest(
      subscribe('Record-Route: <sip:strict.example.com;maddr=192.0.2.1>, <sip:p2.example.com;lr>\r\n'),
      't',
    );
    const n = d.createRequest('NOTIFY');
    expect(n.uri.toString()).toBe('sip:strict.example.com;maddr=192.0.2.1');
    expect(n.route).toEqual(['<sip:p2.example.com;lr>', '<sip:alice@192.0.2.10:5060;transport=udp>']);
  });

  it('a new remote target (target refresh) is used by the next request; each request owns its URI', () => {
    const d = Dialog.fromRequest(subscribe(), 't');
    const n1 = d.createRequest('NOTIFY');
    n1.uri.host = 'changed.example.com';
    expect(d.createRequest('NOTIFY').uri.toString()).toBe('sip:alice@192.0.2.10:5060;transport=udp');
    d.remoteTarget = SipUri.parse('sip:alice@192.0.2.99:5070');
    const n3 = d.createRequest('NOTIFY');
    expect(n3.uri.toString()).toBe('sip:alice@192.0.2.99:5070');
    expect(n3.cseq.seq).toBe(3);
    expect(n3.to.tag).toBe('9fxced76sl');
  });

  it('survives toJSON / fromJSON with its CSeq', () => {
    const d = Dialog.fromRequest(subscribe(), 't', {
      protocol: 'tcp',
      localAddress: '127.0.0.1',
      localPort: 5060,
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
      connectionId: 'tcp-1',
    });
    d.createRequest('NOTIFY');
    const json = JSON.parse(JSON.stringify(d.toJSON()));
    const back = Dialog.fromJSON(json);
    expect(back.toJSON()).toEqual(d.toJSON());
    expect(back.createRequest('NOTIFY').cseq.seq).toBe(2);
    expect(back.flow?.connectionId).toBe('tcp-1');
  });

  it('UAC side from a 2xx: route set reversed, remote target from the response Contact', () => {
    const req = subscribe();
    const res = parseMessage(Buffer.from(fixture('parser-response-200.sip'))) as SipResponse;
    const d = Dialog.fromResponse(req, res);
    expect(d.localTag).toBe('9fxced76sl');
    expect(d.remoteTag).toBe('srv1');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.remoteTarget.toString()).toBe('sip:bob@192.0.2.200');
    expect(d.createRequest('SUBSCRIBE').cseq.seq).toBe(2);
  });

  it('refuses a request without From tag or Contact', () => {
    const noContact = parseMessage(
      Buffer.from(fixture('subscribe-typical.sip').replace(/Contact: .*\r\n/, '')),
    ) as SipRequest;
    expect(() => Dialog.fromRequest(noContact, 't')).toThrow('Missing Contact header');
    const noTag = parseMessage(
      Buffer.from(fixture('subscribe-typical.sip').replace(';tag=9fxced76sl', '')),
    ) as SipRequest;
    expect(() => Dialog.fromRequest(noTag, 't')).toThrow('Missing From tag');
  });
});

describe('Dialog with addresses its holder keeps', () => {
  const plain = (): SipRequest =>
    parseMessage(
      Buffer.from(
        fixture('subscribe-typical.sip')
          .replace('To: "Bob" <sip:bob@presence.example.com>', 'To: <sip:bob@presence.example.com>')
          .replace('From: "Alice" <sip:alice@example.com>', 'From: <sip:alice@example.com>'),
      ),
    ) as SipRequest;
  const shared = { local: 'sip:bob@presence.example.com', remote: 'sip:alice@example.com' };
  const texts = (d: Dialog): [string | undefined, string | undefined, unknown] => {
    const n = d.createRequest('NOTIFY');
    return [n.headers.get('To'), n.headers.get('From'), d.toJSON()];
  };
  const kept = (d: Dialog): unknown[] => [
    (d as unknown as Record<string, unknown>).local,
    (d as unknown as Record<string, unknown>).remote,
  ];

  it('keeps the shared strings when To and From are just <address>, and writes the same headers and JSON', () => {
    const own = Dialog.fromRequest(plain(), 'ourtag');
    const compact = Dialog.fromRequest(plain(), 'ourtag', undefined, shared);
    expect(kept(compact)).toEqual([shared.local, shared.remote]);
    expect(kept(compact)[0]).toBe(shared.local);
    const written = texts(compact);
    expect(written).toEqual(texts(own));
    expect(written[0]).toBe('<sip:alice@example.com>;tag=9fxced76sl');
    expect(compact.localUri.toString()).toBe('<sip:bob@presence.example.com>');
    const restored = Dialog.fromJSON(compact.toJSON(), shared);
    expect(kept(restored)[1]).toBe(shared.remote);
    expect(restored.toJSON()).toEqual(compact.toJSON());
  });

  it('keeps its own text when an address carries a display name or differs', () => {
    const d = Dialog.fromRequest(subscribe(), 'ourtag', undefined, shared);
    expect(kept(d)).toEqual(['Bob <sip:bob@presence.example.com>', 'Alice <sip:alice@example.com>']);
    expect(d.createRequest('NOTIFY').headers.get('To')).toBe('Alice <sip:alice@example.com>;tag=9fxced76sl');
    const other = Dialog.fromRequest(plain(), 'ourtag', undefined, { local: 'sip:bob@other.example.com' });
    expect(other.toJSON().localUri).toBe('<sip:bob@presence.example.com>');
  });

  it('tells whether an address is just <address>, kept shared or as its own text', () => {
    for (const d of [
      Dialog.fromRequest(plain(), 'ourtag', undefined, shared),
      Dialog.fromRequest(plain(), 'ourtag'),
      Dialog.fromJSON(Dialog.fromRequest(plain(), 'ourtag').toJSON()),
    ]) {
      expect([d.localIs(shared.local), d.remoteIs(shared.remote)]).toEqual([true, true]);
      expect([d.localIs(shared.remote), d.remoteIs(shared.local)]).toEqual([false, false]);
      expect([d.localIs('sip:bob@presence.example.co'), d.localIs('')]).toEqual([false, false]);
      expect([d.localText, d.remoteText]).toEqual(['<sip:bob@presence.example.com>', '<sip:alice@example.com>']);
    }
    const named = Dialog.fromRequest(subscribe(), 'ourtag', undefined, shared);
    expect([named.localIs(shared.local), named.remoteIs(shared.remote)]).toEqual([false, false]);
    expect(named.remoteTargetText).toBe(named.toJSON().remoteTarget);
  });
});

describe('Dialog.toJSON of a TLS flow', () => {
  it('stores the flow without the peer identity only the live connection proves', () => {
    const flow = {
      protocol: 'tls' as const,
      localAddress: '127.0.0.1',
      localPort: 5061,
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
      connectionId: 'tls-1',
      tlsPeer: { subject: 'proxy.example.com', altNames: [], sipDomains: ['proxy.example.com'], authorized: true },
    };
    const req = parseMessage(
      Buffer.from(
        'SUBSCRIBE sips:alice@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bKx\r\n' +
          'From: <sips:bob@example.com>;tag=a\r\nTo: <sips:alice@example.com>\r\nCall-ID: c1\r\nCSeq: 1 SUBSCRIBE\r\n' +
          'Contact: <sips:bob@127.0.0.1:40000;transport=tls>\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n',
      ),
    ) as SipRequest;
    const json = Dialog.fromRequest(req, 'b', flow).toJSON();
    expect(json.flow).toEqual({
      protocol: 'tls',
      localAddress: '127.0.0.1',
      localPort: 5061,
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
      connectionId: 'tls-1',
    });
  });
});
