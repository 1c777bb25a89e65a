import { DigestNonces, NonceCounts } from './digest-nonce';

describe('DigestNonces', () => {
  const key = Buffer.alloc(32, 7);
  const nonces = new DigestNonces(key, 300_000);
  const t0 = 1_764_000_000_000;

  it('accepts its own nonce for the realm it was issued for, until it expires', () => {
    const n = nonces.issue('example.com', t0);
    expect(n).toMatch(/^[A-Za-z0-9_-]{38}$/);
    expect(nonces.verify(n, 'example.com', t0)).toBe('valid');
    expect(nonces.verify(n, 'example.com', t0 + 300_000)).toBe('valid');
    expect(nonces.verify(n, 'example.com', t0 + 300_001)).toBe('stale');
    expect(nonces.verify(n, 'example.org', t0)).toBe('invalid');
  });

  it('is stateless: another instance with the same key (or a restart) accepts it', () => {
    const n = nonces.issue('example.com', t0);
    expect(new DigestNonces(Buffer.from(key), 300_000).verify(n, 'example.com', t0 + 1000)).toBe('valid');
    expect(new DigestNonces(Buffer.alloc(32, 8), 300_000).verify(n, 'example.com', t0 + 1000)).toBe('invalid');
  });

  it('refuses tampered, truncated, foreign and future nonces', () => {
    const n = nonces.issue('example.com', t0);
    const flipped = (n[0] === 'A' ? 'B' : 'A') + n.slice(1);
    expect(nonces.verify(flipped, 'example.com', t0)).toBe('invalid');
    expect(nonces.verify(n.slice(1), 'example.com', t0)).toBe('invalid');
    expect(nonces.verify('dcd98b7102dd2f0e8b11d0f600bfb0c093', 'example.com', t0)).toBe('invalid');
    expect(nonces.verify('!'.repeat(38), 'example.com', t0)).toBe('invalid');
    expect(nonces.verify(nonces.issue('example.com', t0 + 120_000), 'example.com', t0)).toBe('invalid');
  });

  it('draws a new salt for every challenge', () => {
    expect(nonces.issue('example.com', t0)).not.toBe(nonces.issue('example.com', t0));
  });
});

describe('NonceCounts', () => {
  it('takes a nonce first seen with any count, then only growing counts', () => {
    const c = new NonceCounts();
    expect(c.accept('n1', 5)).toBe(true);
    expect(c.accept('n1', 5)).toBe(false);
    expect(c.accept('n1', 4)).toBe(false);
    expect(c.accept('n1', 6)).toBe(true);
    expect(c.accept('n2', 1)).toBe(true);
  });

  it('forgets the oldest nonce past its capacity', () => {
    const c = new NonceCounts(2);
    c.accept('a', 1);
    c.accept('b', 1);
    c.accept('c', 1);
    expect(c.size).toBe(2);
    expect(c.accept('b', 1)).toBe(false);
    expect(c.accept('a', 1)).toBe(true);
  });
});
