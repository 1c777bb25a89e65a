import { AddressSet, plainAddress, RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  let now = 1_000_000;
  const limiter = (perSecond: number, burst: number, maxKeys = 100): RateLimiter =>
    new RateLimiter({ perSecond, burst, maxKeys, now: () => now });

  it('lets a burst through, then refuses with the seconds until the next token', () => {
    const l = limiter(2, 3);
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0]);
    expect(l.take('a')).toBe(1);
    now += 500;
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(1);
  });

  it('keeps keys apart', () => {
    const l = limiter(1, 1);
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(1);
    expect(l.take('b')).toBe(0);
  });

  it('gives a Retry-After of several seconds for slow rates', () => {
    const l = limiter(0.2, 1);
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(5);
  });

  it('holds at most maxKeys buckets, forgetting the least recently used', () => {
    const l = limiter(1, 1, 2);
    l.take('a');
    l.take('b');
    l.take('a');
    l.take('c');
    expect(l.size).toBe(2);
    // b was forgotten (full bucket again); a is still limited.
    expect(l.take('a')).toBeGreaterThan(0);
    expect(l.take('b')).toBe(0);
  });

  it('is off with 0 per second', () => {
    const l = limiter(0, 1);
    for (let i = 0; i < 10; i++) expect(l.take('a')).toBe(0);
    expect(l.size).toBe(0);
  });
});

describe('AddressSet', () => {
  it('matches loopback, listed addresses and prefixes, also IPv4-mapped', () => {
    const s = new AddressSet(['10.1.0.0/16', '192.0.2.7', '2001:db8::/32'], true);
    expect(s.has('127.0.0.1')).toBe(true);
    expect(s.has('::ffff:127.0.0.1')).toBe(true);
    expect(s.has('::1')).toBe(true);
    expect(s.has('10.1.200.3')).toBe(true);
    expect(s.has('10.2.0.1')).toBe(false);
    expect(s.has('192.0.2.7')).toBe(true);
    expect(s.has('2001:db8::5')).toBe(true);
    expect(s.has('203.0.113.9')).toBe(false);
    expect(s.has('not an address')).toBe(false);
  });

  it('matches nothing when empty and loopback is not exempt', () => {
    expect(new AddressSet([], false).has('127.0.0.1')).toBe(false);
  });

  it('refuses what is not an address', () => {
    expect(() => new AddressSet(['example.com'], false)).toThrow('example.com is not an IP address');
  });

  it('unmaps IPv4-mapped IPv6 addresses', () => {
    expect(plainAddress('::ffff:198.51.100.1')).toBe('198.51.100.1');
    expect(plainAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
