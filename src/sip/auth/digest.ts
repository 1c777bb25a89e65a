/**
 * HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 2617, RFC 8760 for SHA-256): parsing and rendering of the
 * `WWW-Authenticate` / `Proxy-Authenticate` challenges and `Authorization` / `Proxy-Authorization`
 * credentials, and the HA1 / response computation for MD5 and SHA-256 with `qop=auth` (and the RFC 2069
 * form without qop). Pure functions shared by the server (verification) and the outgoing client (answers to
 * challenges); no state, no clock. Self-contained: it imports only `node:crypto`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The digest algorithms supported (RFC 8760 §2: `SHA-256` preferred, `MD5` for older peers). */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Every supported algorithm, strongest first: the order in which a server offers its challenges. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/** A challenge (`WWW-Authenticate` / `Proxy-Authenticate`, RFC 2617 §3.2.1). */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** `qop` options offered (`auth`, `auth-int`); empty when the challenge carries none (RFC 2069). */
  qop: string[];
  opaque?: string;
  stale?: boolean;
  domain?: string;
}

/** Credentials (`Authorization` / `Proxy-Authorization`, RFC 2617 §3.2.2). */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  /** `auth` when present; undefined in the RFC 2069 form. */
  qop?: string;
  /** The nonce-count as sent: 8 hex digits. */
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

/** The scheme and the auth-params of one challenge or credentials value (names lowercase, values unquoted). */
export interface AuthParams {
  scheme: string;
  params: Map<string, string>;
}

/** Why a credentials value could not be read, in words fit for a SIP reason phrase or a log line. */
export class DigestParseError extends Error {}

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Splits `Digest name=value, name="quoted", ...` into its scheme and parameters (RFC 2617 §1.2 auth-param,
 * RFC 3261 §25.1 quoted-string with `\` escapes). Returns undefined when the value is not of that shape.
 */
export function parseAuthParams(value: string): AuthParams | undefined {
  const text = value.trim();
  const sp = text.search(/[ \t]/);
  const scheme = sp < 0 ? text : text.slice(0, sp);
  if (!TOKEN.test(scheme)) return undefined;
  const params = new Map<string, string>();
  let i = sp < 0 ? text.length : sp;
  const n = text.length;
  const skipWs = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
  };
  while (i < n) {
    skipWs();
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) return undefined;
    const name = text.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    i = eq + 1;
    skipWs();
    let val: string;
    if (text[i] === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const c = text[i];
        if (c === '\\' && i + 1 < n) {
          out += text[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          out += c;
          i++;
        }
      }
      if (!closed) return undefined;
      val = out;
    } else {
      const start = i;
      while (i < n && text[i] !== ',' && text[i] !== ' ' && text[i] !== '\t') i++;
      val = text.slice(start, i);
      if (!TOKEN.test(val)) return undefined;
    }
    if (params.has(name)) return undefined;
    params.set(name, val);
    skipWs();
    if (i < n) {
      if (text[i] !== ',') return undefined;
      i++;
    }
  }
  return { scheme, params };
}

/** Reads an algorithm name (case-insensitive; absent means MD5, RFC 2617 §3.2.1). Undefined when unsupported. */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const v = value.toUpperCase();
  if (v === 'MD5') return 'MD5';
  if (v === 'SHA-256') return 'SHA-256';
  return undefined;
}

/** Parses a `WWW-Authenticate` / `Proxy-Authenticate` value; undefined when it is not a usable Digest challenge. */
export function parseChallenge(value: string): DigestChallenge | undefined {
  const parsed = parseAuthParams(value);
  if (parsed?.scheme.toLowerCase() !== 'digest') return undefined;
  const p = parsed.params;
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const algorithm = parseAlgorithm(p.get('algorithm'));
  if (realm === undefined || nonce === undefined || algorithm === undefined) return undefined;
  const qopText = p.get('qop');
  const challenge: DigestChallenge = {
    realm,
    nonce,
    algorithm,
    qop:
      qopText === undefined
        ? []
        : qopText
            .split(',')
            .map((q) => q.trim().toLowerCase())
            .filter((q) => q !== ''),
  };
  const opaque = p.get('opaque');
  if (opaque !== undefined) challenge.opaque = opaque;
  const stale = p.get('stale');
  if (stale !== undefined) challenge.stale = stale.toLowerCase() === 'true';
  const domain = p.get('domain');
  if (domain !== undefined) challenge.domain = domain;
  return challenge;
}

/**
 * Parses an `Authorization` / `Proxy-Authorization` value. Throws `DigestParseError` naming the fault when
 * the value is a Digest credential that cannot be used (missing parameter, unknown algorithm or qop, bad nc);
 * returns undefined when the scheme is not Digest.
 */
export function parseCredentials(value: string): DigestCredentials | undefined {
  const parsed = parseAuthParams(value);
  if (parsed === undefined) {
    if (/^\s*digest\s/i.test(value)) throw new DigestParseError('malformed Digest credentials');
    return undefined;
  }
  if (parsed.scheme.toLowerCase() !== 'digest') return undefined;
  const p = parsed.params;
  const need = (name: string): string => {
    const v = p.get(name);
    if (v === undefined) throw new DigestParseError(`Digest credentials without ${name}`);
    return v;
  };
  const algorithm = parseAlgorithm(p.get('algorithm'));
  if (algorithm === undefined) throw new DigestParseError('unsupported Digest algorithm');
  const creds: DigestCredentials = {
    username: need('username'),
    realm: need('realm'),
    nonce: need('nonce'),
    uri: need('uri'),
    response: need('response').toLowerCase(),
    algorithm,
  };
  const qop = p.get('qop');
  if (qop !== undefined) {
    if (qop.toLowerCase() !== 'auth') throw new DigestParseError('unsupported Digest qop');
    creds.qop = 'auth';
    const nc = need('nc');
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) throw new DigestParseError('Digest nc is not 8 hex digits');
    creds.nc = nc.toLowerCase();
    creds.cnonce = need('cnonce');
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) creds.opaque = opaque;
  return creds;
}

/** Quotes a string for a quoted-string parameter (RFC 3261 §25.1). */
function q(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

/** Renders a challenge for `WWW-Authenticate` / `Proxy-Authenticate`. */
export function formatChallenge(ch: DigestChallenge): string {
  let out = `Digest realm=${q(ch.realm)}`;
  if (ch.domain !== undefined) out += `, domain=${q(ch.domain)}`;
  out += `, nonce=${q(ch.nonce)}`;
  if (ch.opaque !== undefined) out += `, opaque=${q(ch.opaque)}`;
  if (ch.stale === true) out += ', stale=true';
  out += `, algorithm=${ch.algorithm}`;
  if (ch.qop.length > 0) out += `, qop=${q(ch.qop.join(','))}`;
  return out;
}

/** Renders credentials for `Authorization` / `Proxy-Authorization`. */
export function formatCredentials(c: DigestCredentials): string {
  let out =
    `Digest username=${q(c.username)}, realm=${q(c.realm)}, nonce=${q(c.nonce)}, uri=${q(c.uri)}` +
    `, response=${q(c.response)}, algorithm=${c.algorithm}`;
  if (c.opaque !== undefined) out += `, opaque=${q(c.opaque)}`;
  if (c.qop !== undefined) out += `, qop=${c.qop}, nc=${c.nc ?? '00000001'}, cnonce=${q(c.cnonce ?? '')}`;
  return out;
}

/** The nonce-count as sent on the wire: 8 lowercase hex digits (RFC 2617 §3.2.2). */
export function formatNonceCount(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** The hash function H of an algorithm, hex output (RFC 2617 §3.2.1, RFC 8760 §2). */
export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(data, 'utf8')
    .digest('hex');
}

/** HA1 = H(username ":" realm ":" password) (RFC 2617 §3.2.2.2, no `-sess`). */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** What the response is computed from, besides HA1. */
export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  ha1: string;
  method: string;
  uri: string;
  nonce: string;
  /** `auth`, or undefined for the RFC 2069 form. */
  qop?: string;
  nc?: string;
  cnonce?: string;
}

/**
 * request-digest (RFC 2617 §3.2.2.1): with qop=auth H(HA1:nonce:nc:cnonce:qop:HA2), without qop
 * H(HA1:nonce:HA2); HA2 = H(method:uri).
 */
export function computeResponse(input: DigestResponseInput): string {
  const ha2 = digestHash(input.algorithm, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return digestHash(input.algorithm, `${input.ha1}:${input.nonce}:${ha2}`);
  return digestHash(
    input.algorithm,
    `${input.ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`,
  );
}

/** Compares two hex digests in constant time (lengths may differ: then false). */
export function digestEquals(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

/**
 * Whether `creds` answer correctly for `method` given the stored HA1 (same algorithm and realm as the
 * credentials). Nonce validity and replay are the caller's business.
 */
export function verifyResponse(creds: DigestCredentials, method: string, ha1: string): boolean {
  const expected = computeResponse({
    algorithm: creds.algorithm,
    ha1,
    method,
    uri: creds.uri,
    nonce: creds.nonce,
    qop: creds.qop,
    nc: creds.nc,
    cnonce: creds.cnonce,
  });
  return digestEquals(expected, creds.response);
}

/** What a client needs to answer one challenge. */
export interface DigestAnswerInput {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** Nonce-count for this nonce, starting at 1 (used only when the challenge offers qop=auth). */
  nc?: number;
  /** Client nonce (used only with qop=auth); 16 random hex digits when absent. */
  cnonce?: string;
}

/**
 * Builds the credentials that answer `challenge` (RFC 2617 §3.2.2): qop=auth when offered, the RFC 2069
 * form otherwise. Throws `DigestParseError` when only `auth-int` is offered.
 */
export function answerChallenge(challenge: DigestChallenge, input: DigestAnswerInput): DigestCredentials {
  const ha1 = computeHa1(challenge.algorithm, input.username, challenge.realm, input.password);
  const useQop = challenge.qop.includes('auth');
  if (!useQop && challenge.qop.length > 0) throw new DigestParseError('challenge offers no qop=auth');
  const creds: DigestCredentials = {
    username: input.username,
    realm: challenge.realm,
    nonce: challenge.nonce,
    uri: input.uri,
    algorithm: challenge.algorithm,
    response: '',
  };
  if (useQop) {
    creds.qop = 'auth';
    creds.nc = formatNonceCount(input.nc ?? 1);
    creds.cnonce = input.cnonce ?? randomBytes(8).toString('hex');
  }
  if (challenge.opaque !== undefined) creds.opaque = challenge.opaque;
  creds.response = computeResponse({ ...creds, ha1, method: input.method });
  return creds;
}
