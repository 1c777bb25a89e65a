import { computeHa1, parseChallenge, parseCredentials, verifyResponse } from './digest';
import { digestAuthorization, pickDigestChallenge } from './digest-client';

describe('digest client (RFC 2617, RFC 8760)', () => {
  it('writes an Authorization value with qop, nc, cnonce and opaque that verifies', () => {
    const c = parseChallenge('Digest realm="example.com", nonce="abc", opaque="o", algorithm=SHA-256, qop="auth"')!;
    const v = digestAuthorization(
      c,
      { username: 'bob', password: 'pw' },
      { method: 'PUBLISH', uri: 'sip:bob@example.com', cnonce: 'cn', nc: 2 },
    );
    const creds = parseCredentials(v)!;
    expect(creds).toMatchObject({
      username: 'bob',
      realm: 'example.com',
      nonce: 'abc',
      uri: 'sip:bob@example.com',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '00000002',
      cnonce: 'cn',
      opaque: 'o',
    });
    expect(verifyResponse(creds, 'PUBLISH', computeHa1('SHA-256', 'bob', 'example.com', 'pw'))).toBe(true);
    expect(verifyResponse(creds, 'PUBLISH', computeHa1('SHA-256', 'bob', 'example.com', 'other'))).toBe(false);
  });

  it('answers a challenge without qop in the RFC 2069 form', () => {
    const v = digestAuthorization(
      parseChallenge('Digest realm="r", nonce="n"')!,
      { username: 'u', password: 'p' },
      { method: 'SUBSCRIBE', uri: 'sip:x@r', cnonce: 'c', nc: 1 },
    );
    expect(v).not.toContain('qop=');
    expect(v).toContain('algorithm=MD5');
    expect(verifyResponse(parseCredentials(v)!, 'SUBSCRIBE', computeHa1('MD5', 'u', 'r', 'p'))).toBe(true);
  });

  it('skips what it cannot answer and prefers SHA-256', () => {
    expect(pickDigestChallenge(['Basic realm="x"', 'Digest realm="x"'])).toBeUndefined();
    expect(pickDigestChallenge(['Digest realm="x", nonce="n", algorithm=SHA-512-256'])).toBeUndefined();
    expect(pickDigestChallenge(['Digest realm="x", nonce="n", qop="auth-int"'])).toBeUndefined();
    const picked = pickDigestChallenge([
      'Digest realm="x", nonce="n1", algorithm=MD5',
      'Digest realm="x", nonce="n2", algorithm=SHA-256',
    ]);
    expect(picked).toMatchObject({ nonce: 'n2', algorithm: 'SHA-256' });
    expect(pickDigestChallenge(['Digest realm="x", nonce="n", stale=TRUE'])!.stale).toBe(true);
  });
});
