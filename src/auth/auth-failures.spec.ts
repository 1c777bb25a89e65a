import { AuthFailures, failureLine } from './auth-failures';
import { trustedPeers } from './trusted-peers';

describe('AuthFailures', () => {
  it('logs one stable line per failure and counts per source and per user', () => {
    const lines: string[] = [];
    const f = new AuthFailures((line) => lines.push(line));
    const base = { source: '192.0.2.7', port: 5060, method: 'REGISTER' } as const;
    f.record({ ...base, user: 'alice@example.com', reason: 'wrong-password' });
    f.record({ ...base, user: 'bob@example.com', reason: 'unknown-user' });
    f.record({ ...base, source: '192.0.2.8', user: 'alice@example.com', reason: 'nonce-reused' });
    expect(lines).toEqual([
      'auth failure: src=192.0.2.7 port=5060 user=alice@example.com method=REGISTER reason=wrong-password count=1',
      'auth failure: src=192.0.2.7 port=5060 user=bob@example.com method=REGISTER reason=unknown-user count=2',
      'auth failure: src=192.0.2.8 port=5060 user=alice@example.com method=REGISTER reason=nonce-reused count=1',
    ]);
    expect(f.forSource('192.0.2.7')).toBe(2);
    expect(f.forUser('alice@example.com')).toBe(2);
    expect(f.total).toBe(3);
  });

  it('keeps what a peer wrote from breaking the line', () => {
    const line = failureLine(
      { source: '::1', port: 1, user: 'x\nauth failure: src=1.2.3.4 "', method: 'REG ISTER', reason: 'malformed' },
      1,
    );
    expect(line).toBe(
      'auth failure: src=::1 port=1 user=x?auth?failure:?src=1.2.3.4?? method=REG?ISTER reason=malformed count=1',
    );
    expect(line.match(/src=/g)).toHaveLength(2);
    expect(line.startsWith('auth failure: src=::1 ')).toBe(true);
  });

  it('forgets the oldest sources past its capacity', () => {
    const f = new AuthFailures(() => undefined, 2);
    for (const source of ['a', 'b', 'c'])
      f.record({ source, port: 1, user: '', method: 'PUBLISH', reason: 'bad-nonce' });
    expect(f.forSource('a')).toBe(0);
    expect(f.forSource('c')).toBe(1);
  });
});

describe('trustedPeers', () => {
  it('matches addresses and CIDR blocks, IPv4-mapped addresses included', () => {
    const t = trustedPeers(['10.0.0.0/8', '192.0.2.1', '::1', '2001:db8::/32']);
    expect(t('10.200.1.1')).toBe(true);
    expect(t('::ffff:10.1.1.1')).toBe(true);
    expect(t('192.0.2.1')).toBe(true);
    expect(t('192.0.2.2')).toBe(false);
    expect(t('::1')).toBe(true);
    expect(t('2001:db8:1::5')).toBe(true);
    expect(t('2001:db9::1')).toBe(false);
    expect(t('not-an-address')).toBe(false);
    expect(trustedPeers([])('127.0.0.1')).toBe(false);
  });

  it('refuses an entry that is not an address or block', () => {
    expect(() => trustedPeers(['10.0.0.0/33'])).toThrow(
      'auth.trustedPeers: 10.0.0.0/33 is not an IP address or CIDR block',
    );
    expect(() => trustedPeers(['::g'])).toThrow('not an IP address');
  });
});
