import {
  answerChallenge,
  computeHa1,
  computeResponse,
  DigestParseError,
  formatChallenge,
  formatCredentials,
  formatNonceCount,
  parseAuthParams,
  parseChallenge,
  parseCredentials,
  verifyResponse,
} from './digest';

describe('digest', () => {
  describe('RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    it('computes the response', () => {
      expect(
        computeResponse({
          algorithm: 'MD5',
          ha1,
          method: 'GET',
          uri: '/dir/index.html',
          nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
          qop: 'auth',
          nc: '00000001',
          cnonce: '0a4f113b',
        }),
      ).toBe('6629fae49393a05397450978507c4ef1');
    });
    it('verifies the example Authorization header', () => {
      const creds = parseCredentials(
        'Digest username="Mufasa",\r\n realm="testrealm@host.com",\r\n nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",' +
          ' uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b",' +
          ' response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      );
      expect(creds).toMatchObject({ username: 'Mufasa', algorithm: 'MD5', nc: '00000001', opaque: expect.any(String) });
      expect(verifyResponse(creds!, 'GET', ha1)).toBe(true);
      expect(verifyResponse(creds!, 'POST', ha1)).toBe(false);
    });
  });

  describe('RFC 7616 §3.9.1 example (used by RFC 8760)', () => {
    const base = {
      method: 'GET',
      uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    it('MD5', () => {
      const ha1 = computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
      expect(computeResponse({ ...base, algorithm: 'MD5', ha1 })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    });
    it('SHA-256', () => {
      const ha1 = computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
      expect(computeResponse({ ...base, algorithm: 'SHA-256', ha1 })).toBe(
        '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      );
    });
  });

  it('computes the RFC 2069 form without qop', () => {
    const ha1 = computeHa1('MD5', 'u', 'r', 'p');
    const creds = answerChallenge(
      { realm: 'r', nonce: 'n', algorithm: 'MD5', qop: [] },
      {
        username: 'u',
        password: 'p',
        method: 'REGISTER',
        uri: 'sip:example.com',
      },
    );
    expect(creds.qop).toBeUndefined();
    expect(verifyResponse(creds, 'REGISTER', ha1)).toBe(true);
  });

  it('round-trips a challenge through format and parse, SIP-style', () => {
    const ch = {
      realm: 'example.com',
      nonce: 'abc/def+1=',
      algorithm: 'SHA-256' as const,
      qop: ['auth'],
      stale: true,
      opaque: 'o"1',
    };
    expect(formatChallenge(ch)).toBe(
      'Digest realm="example.com", nonce="abc/def+1=", opaque="o\\"1", stale=true, algorithm=SHA-256, qop="auth"',
    );
    expect(parseChallenge(formatChallenge(ch))).toEqual(ch);
  });

  it('reads a challenge without algorithm as MD5 and a list of qop options', () => {
    expect(parseChallenge('Digest realm="a", nonce="b", qop="auth,auth-int"')).toEqual({
      realm: 'a',
      nonce: 'b',
      algorithm: 'MD5',
      qop: ['auth', 'auth-int'],
    });
    expect(parseChallenge('Digest realm="a", nonce="b", algorithm=SHA-512-256')).toBeUndefined();
    expect(parseChallenge('Basic realm="a"')).toBeUndefined();
  });

  it('answers a challenge and the answer verifies; formatted credentials parse back', () => {
    for (const algorithm of ['MD5', 'SHA-256'] as const) {
      const ch = { realm: 'example.com', nonce: 'n1', algorithm, qop: ['auth'], opaque: 'x' };
      const creds = answerChallenge(ch, {
        username: 'alice',
        password: 's3cret',
        method: 'REGISTER',
        uri: 'sip:example.com',
        nc: 2,
      });
      expect(creds.nc).toBe('00000002');
      expect(creds.cnonce).toMatch(/^[0-9a-f]{16}$/);
      const back = parseCredentials(formatCredentials(creds));
      expect(back).toEqual(creds);
      expect(verifyResponse(back!, 'REGISTER', computeHa1(algorithm, 'alice', 'example.com', 's3cret'))).toBe(true);
      expect(verifyResponse(back!, 'REGISTER', computeHa1(algorithm, 'alice', 'example.com', 'wrong'))).toBe(false);
    }
  });

  it('refuses unusable Digest credentials with a reason and ignores other schemes', () => {
    expect(() => parseCredentials('Digest username="a", realm="r", nonce="n", uri="u"')).toThrow(
      new DigestParseError('Digest credentials without response'),
    );
    expect(() =>
      parseCredentials('Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-1'),
    ).toThrow('unsupported Digest algorithm');
    expect(() =>
      parseCredentials(
        'Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth-int, nc=00000001, cnonce="c"',
      ),
    ).toThrow('unsupported Digest qop');
    expect(() =>
      parseCredentials('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=1, cnonce="c"'),
    ).toThrow('Digest nc is not 8 hex digits');
    expect(() => parseCredentials('Digest username="a')).toThrow('malformed Digest credentials');
    expect(parseCredentials('NoOneKnowsThisScheme opaque-data=here')).toBeUndefined();
  });

  it('parses auth-params with escapes, LWS and case-insensitive names; refuses duplicates and junk', () => {
    expect(parseAuthParams('Digest  USERNAME = "a\\"b" ,realm="r,s"')).toEqual({
      scheme: 'Digest',
      params: new Map([
        ['username', 'a"b'],
        ['realm', 'r,s'],
      ]),
    });
    expect(parseAuthParams('Digest a="1", a="2"')).toBeUndefined();
    expect(parseAuthParams('Digest a="1" b="2"')).toBeUndefined();
    expect(parseAuthParams('Digest a=<x>')).toBeUndefined();
  });

  it('formats the nonce-count as 8 hex digits', () => {
    expect(formatNonceCount(1)).toBe('00000001');
    expect(formatNonceCount(255)).toBe('000000ff');
  });
});
