import {
  digestAuthorization,
  digestResponse,
  parseAuthParams,
  parseDigestChallenge,
  pickDigestChallenge,
} from './digest-client';

describe('digest client (RFC 2617, RFC 7616/8760)', () => {
  it('computes the RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    const c = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    )!;
    expect(c).toMatchObject({
      algorithm: 'MD5',
      qop: ['auth', 'auth-int'],
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
    const r = digestResponse(
      c,
      { username: 'Mufasa', password: 'Circle Of Life' },
      { method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b', nc: 1 },
    );
    expect(r).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('computes the RFC 7616 §3.9.1 examples with MD5 and SHA-256', () => {
    const req = {
      method: 'GET',
      uri: '/dir/index.html',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      nc: 1,
    };
    const creds = { username: 'Mufasa', password: 'Circle of Life' };
    const base =
      'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"';
    const md5 = parseDigestChallenge(`Digest ${base}, algorithm=MD5`)!;
    const sha = parseDigestChallenge(`Digest ${base}, algorithm=SHA-256`)!;
    expect(digestResponse(md5, creds, req)).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse(sha, creds, req)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('writes an Authorization value with qop, nc, cnonce and opaque; RFC 2069 style without qop', () => {
    const c = parseDigestChallenge(
      'Digest realm="example.com", nonce="abc", opaque="o", algorithm=SHA-256, qop="auth"',
    )!;
    const v = digestAuthorization(
      c,
      { username: 'bob', password: 'pw' },
      { method: 'PUBLISH', uri: 'sip:bob@example.com', cnonce: 'cn', nc: 2 },
    );
    const p = parseAuthParams(v.replace(/^Digest /, ''));
    expect(Object.fromEntries(p)).toMatchObject({
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
    expect(p.get('response')).toMatch(/^[0-9a-f]{64}$/);
    const old = parseDigestChallenge('Digest realm="r", nonce="n"')!;
    const v2 = digestAuthorization(
      old,
      { username: 'u', password: 'p' },
      { method: 'SUBSCRIBE', uri: 'sip:x@r', cnonce: 'c', nc: 1 },
    );
    expect(v2).not.toContain('qop=');
    expect(v2).toContain('algorithm=MD5');
  });

  it('skips what it cannot answer and prefers SHA-256', () => {
    expect(parseDigestChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="x"')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="x", nonce="n", qop="auth-int"')).toBeUndefined();
    const picked = pickDigestChallenge([
      'Digest realm="x", nonce="n1", algorithm=MD5',
      'Digest realm="x", nonce="n2", algorithm=SHA-256',
    ]);
    expect(picked).toMatchObject({ nonce: 'n2', algorithm: 'SHA-256' });
    expect(parseDigestChallenge('Digest realm="x", nonce="n", stale=TRUE')!.stale).toBe(true);
  });
});
