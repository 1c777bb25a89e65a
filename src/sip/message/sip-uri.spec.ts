import { SipParseError } from '../errors/sip-parse-error';
import { SipUri } from './sip-uri';

describe('SipUri (RFC 3261 §19.1)', () => {
  it.each([
    'sip:alice@example.com',
    'sip:alice:secret@example.com:5070;transport=tcp;lr?subject=hi&priority=urgent',
    'sips:bob@[2001:db8::1]:5061',
    'sip:example.com;maddr=239.255.255.1;ttl=15',
    'sip:+1-212-555-1212:1234@gateway.com;user=phone',
    'sip:%61lice@example.com',
  ])('round-trips %s', (text) => {
    expect(SipUri.parse(text).toString()).toBe(text);
  });

  it('splits the parts and lowercases scheme, host and parameter names', () => {
    const u = SipUri.parse('SIP:Alice:pw@Example.COM:5080;Transport=TCP;lr?X=1');
    expect(u.scheme).toBe('sip');
    expect(u.user).toBe('Alice');
    expect(u.password).toBe('pw');
    expect(u.host).toBe('example.com');
    expect(u.port).toBe(5080);
    expect(u.params.get('transport')).toBe('TCP');
    expect(u.params.get('lr')).toBeNull();
    expect(u.headers.get('X')).toBe('1');
  });

  it('aor() keeps scheme, user and host only, escaping canonically', () => {
    expect(SipUri.parse('sip:%61lice@Example.com:5060;transport=udp').aor()).toBe('sip:alice@example.com');
    expect(SipUri.parse('sip:a%20b@example.com').aor()).toBe('sip:a%20b@example.com');
    expect(SipUri.parse('sip:example.com').aor()).toBe('sip:example.com');
  });

  it('keeps unknown schemes opaque', () => {
    const u = SipUri.parse('tel:+1-201-555-0123');
    expect(u.scheme).toBe('tel');
    expect(u.opaque).toBe('+1-201-555-0123');
    expect(u.isSip).toBe(false);
    expect(u.toString()).toBe('tel:+1-201-555-0123');
    expect(SipUri.parse('urn:service:sos').scheme).toBe('urn');
  });

  it('clone() is deep', () => {
    const a = SipUri.parse('sip:a@b;lr');
    const b = a.clone();
    b.params.set('transport', 'tcp');
    expect(a.toString()).toBe('sip:a@b;lr');
  });

  it.each(['', 'alice', 'sip:', 'sip:@host', 'sip:a@ho st', 'sip:a@host:99999', 'sip:a@[::1', 'sip:a@host:x'])(
    'rejects %p',
    (text) => {
      expect(() => SipUri.parse(text)).toThrow(SipParseError);
    },
  );
});

describe('SipUri.aor of a sips: URI', () => {
  it('is the sip: AoR (RFC 5630 §3.1: the same resource, over TLS only)', () => {
    expect(SipUri.parse('sips:Al%69ce@Example.com:5061;transport=tls').aor()).toBe('sip:Alice@example.com');
  });
});
