import { Via } from './via';

describe('Via (RFC 3261 §20.42, RFC 3581)', () => {
  it('parses protocol, sent-by and parameters', () => {
    const v = Via.parse(
      'SIP/2.0/udp pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=1234;ttl=4',
    );
    expect(v.protocol).toBe('UDP');
    expect(v.host).toBe('pc33.atlanta.com');
    expect(v.port).toBe(5066);
    expect(v.branch).toBe('z9hG4bK776asdhds');
    expect(v.received).toBe('192.0.2.1');
    expect(v.rport).toBe(1234);
    expect(v.params.get('ttl')).toBe('4');
  });

  it('distinguishes absent rport from rport without value', () => {
    expect(Via.parse('SIP/2.0/UDP h;branch=z9hG4bK1').rport).toBeUndefined();
    expect(Via.parse('SIP/2.0/UDP h;rport;branch=z9hG4bK1').rport).toBeNull();
  });

  it('accepts LWS around the slashes and the colon', () => {
    const v = Via.parse('SIP / 2.0 / TCP  host.example.com : 5070 ; branch = z9hG4bKx');
    expect(v.protocol).toBe('TCP');
    expect(v.port).toBe(5070);
    expect(v.branch).toBe('z9hG4bKx');
  });

  it('parses IPv6 and WS/WSS and round-trips', () => {
    for (const t of [
      'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport',
      'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf',
      'SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK2;received=10.0.0.2;rport=5099',
    ]) {
      expect(Via.parse(t).toString()).toBe(t);
    }
  });

  it('setters update params', () => {
    const v = Via.parse('SIP/2.0/UDP h:1;branch=z9hG4bK1;rport');
    v.received = '1.2.3.4';
    v.rport = 4321;
    expect(v.toString()).toBe('SIP/2.0/UDP h:1;branch=z9hG4bK1;rport=4321;received=1.2.3.4');
  });

  it.each([
    ['SIP/2.0/UDP h:1;branch=z9hG4bK1;rport', '1.2.3.4', 4321],
    ['SIP/2.0/UDP h:1;received=9.9.9.9;branch=z9hG4bK1;rport;x', '1.2.3.4', 4321],
    ['SIP/2.0/UDP h:1;branch=z9hG4bK1;rport=7', '1.2.3.4', undefined],
    ['SIP/2.0/TCP [::1]:1;branch=z9hG4bK1', undefined, 99],
  ] as const)(
    'stamped(%p) writes what the setters and toString would, leaving the Via as it was',
    (text, received, rport) => {
      const v = Via.parse(text);
      const out = v.stamped(received, rport);
      expect(v.toString()).toBe(Via.parse(text).toString());
      const set = Via.parse(text);
      if (received !== undefined) set.received = received;
      if (rport !== undefined) set.rport = rport;
      expect(out).toBe(set.toString());
    },
  );

  it.each([
    '',
    'SIP/2.0/UDP',
    'SIP/2.0 UDP host',
    'HTTP/1.1/TCP host',
    'SIP/2.0/UDP host:99999',
    'SIP/2.0/UDP host junk',
  ])('rejects %p', (t) => {
    expect(() => Via.parse(t)).toThrow('Bad Via header');
  });
});
