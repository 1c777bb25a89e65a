import { computeHa1, parseChallenge, parseCredentials, verifyResponse } from './digest';
import { digestAuthorization, pickDigestChallenge } from './digest-client';

describe('digest client (RFC 2617, RFC 7616/8760)', () => {
  it('answers the RFC 7616 §3.9.1 examples with MD5 and SHA-256', () => {
    const base =
      'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"';
    const req = {
      method: 'GET',
      uri: '/dir/index.html',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      nc: 1,
    };
    const creds = { username: 'Mufasa', password: 'Circle of Life' };
    const md5 = parseCredentials(digestAuthorization(parseChallenge(`Digest ${base}, algorithm=MD5`)!, creds, req))!;
    const sha = parseCredentials(
      digestAuthorization(parseChallenge(`Digest ${base}, algorithm=SHA-256`)!, creds, req),
    )!;
    expect(md5.response).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(sha.response).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    expect(sha).toMatchObject({ qop: 'auth', nc: '00000001', algorithm: 'SHA-256' });
  });

  it('writes credentials a server verifies, with opaque, and the RFC 2069 form without qop', () => {
    const c = parseChallenge('Digest realm="example.com", nonce="abc", opaque="o", algorithm=SHA-256, qop="auth"')!;
    const value = digestAuthorization(
      c,
      { username: 'bob', password: 'pw' },
      { method: 'PUBLISH', uri: 'sip:bob@example.com' },
    );
    const creds = parseCredentials(value)!;
    expect(creds).toMatchObject({ username: 'bob', realm: 'example.com', uri: 'sip:bob@example.com', opaque: 'o' });
    expect(verifyResponse(creds, 'PUBLISH', computeHa1('SHA-256', 'bob', 'example.com', 'pw'))).toBe(true);
    const old = parseChallenge('Digest realm="r", nonce="n"')!;
    const v2 = digestAuthorization(old, { username: 'u', password: 'p' }, { method: 'SUBSCRIBE', uri: 'sip:x@r' });
    expect(v2).not.toContain('qop=');
    expect(verifyResponse(parseCredentials(v2)!, 'SUBSCRIBE', computeHa1('MD5', 'u', 'r', 'p'))).toBe(true);
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
  });
});
