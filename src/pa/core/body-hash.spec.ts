import { bodyHash, hash53 } from './body-hash';

describe('bodyHash', () => {
  const pidf = (note: string) => ({
    contentType: 'application/pidf+xml',
    body: `<presence><note>${note}</note></presence>`,
  });

  it('is the same for equal bodies in different objects and differs when anything differs', () => {
    expect(bodyHash(pidf('a'))).toBe(bodyHash(pidf('a')));
    expect(bodyHash(pidf('a'))).not.toBe(bodyHash(pidf('b')));
    expect(bodyHash({ contentType: 'text/plain', body: 'x' })).not.toBe(
      bodyHash({ contentType: 'text/html', body: 'x' }),
    );
    expect(bodyHash(null)).toBe(-1);
    expect(bodyHash({ contentType: '', body: '' })).toBeGreaterThanOrEqual(0);
  });

  it('gives distinct 53-bit values over many near-identical texts', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      const h = hash53(`<presence entity="sip:u${i}@example.com"/>`, 7);
      expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
      seen.add(h);
    }
    expect(seen.size).toBe(100_000);
  });

  it('hashes bytes of a binary body: equal bytes alike, any byte changed differs', () => {
    const bytes = Buffer.from([0, 255, 128, 10, 13]);
    const a = { contentType: 'application/octet-stream', body: bytes };
    expect(bodyHash(a)).toBe(bodyHash({ ...a, body: Buffer.from(bytes) }));
    expect(bodyHash(a)).not.toBe(bodyHash({ ...a, body: Buffer.from([0, 255, 128, 10, 14]) }));
    expect(bodyHash(a)).toBeGreaterThanOrEqual(0);
  });
});
