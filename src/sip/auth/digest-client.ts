/**
 * Digest authentication, client side (RFC 3261 §22.2–22.4, RFC 2617 §3.2.2, RFC 8760): reads a
 * `WWW-Authenticate` / `Proxy-Authenticate` challenge and computes the `Authorization` /
 * `Proxy-Authorization` value that answers it. MD5 and SHA-256 (and their `-sess` forms); qop `auth` when the
 * challenge offers it, RFC 2069 style (no qop) otherwise. `auth-int` alone is not answered.
 */
import { createHash } from 'node:crypto';

/** Hash algorithms a challenge may name (RFC 8760 §2.1); names are compared without case. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** A parsed `Digest` challenge. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly algorithm: DigestAlgorithm;
  /** The qop values offered (lowercase); empty when the challenge has none. */
  readonly qop: readonly string[];
  readonly stale: boolean;
}

/** Who answers a challenge. */
export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

/** What {@link digestAuthorization} needs besides the challenge and credentials. */
export interface DigestRequest {
  readonly method: string;
  /** The Request-URI as sent (`digest-uri`). */
  readonly uri: string;
  /** Client nonce (any unguessable token); only used with qop. */
  readonly cnonce: string;
  /** Nonce count for this nonce, 1 for its first use. */
  readonly nc: number;
}

const ALGORITHMS: Readonly<Record<string, DigestAlgorithm>> = {
  md5: 'MD5',
  'md5-sess': 'MD5-sess',
  'sha-256': 'SHA-256',
  'sha-256-sess': 'SHA-256-sess',
};

/** `name=value` or `name="quoted value"` pairs of an auth header, names lowercased. */
export function parseAuthParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m[0] !== '') {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    out.set(m[1].toLowerCase(), value);
  }
  return out;
}

/**
 * Reads a challenge header value (`Digest realm="...", nonce="...", ...`). Returns undefined when it is not
 * a Digest challenge, lacks realm or nonce, names an unknown algorithm, or offers only qop values other than
 * `auth` (RFC 8760 §2.4: a client skips challenges it cannot answer).
 */
export function parseDigestChallenge(value: string): DigestChallenge | undefined {
  const m = /^\s*digest\s+/i.exec(value);
  if (!m) return undefined;
  const p = parseAuthParams(value.slice(m[0].length));
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const algorithm = ALGORITHMS[(p.get('algorithm') ?? 'MD5').toLowerCase()];
  if (algorithm === undefined) return undefined;
  const qop = (p.get('qop') ?? '')
    .split(',')
    .map((q) => q.trim().toLowerCase())
    .filter((q) => q !== '');
  if (qop.length > 0 && !qop.includes('auth')) return undefined;
  const opaque = p.get('opaque');
  return {
    realm,
    nonce,
    algorithm,
    qop,
    stale: (p.get('stale') ?? '').toLowerCase() === 'true',
    ...(opaque !== undefined && { opaque }),
  };
}

/**
 * The challenge to answer among several header values: the first SHA-256 one when any (RFC 8760 §2.4: the
 * client uses the strongest it supports), else the first MD5 one.
 */
export function pickDigestChallenge(values: readonly string[]): DigestChallenge | undefined {
  const all = values.map(parseDigestChallenge).filter((c): c is DigestChallenge => c !== undefined);
  return all.find((c) => c.algorithm.startsWith('SHA-256')) ?? all[0];
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(text, 'utf8')
    .digest('hex');
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** The `response` value of RFC 2617 §3.2.2.1 with the hash of RFC 8760. */
export function digestResponse(challenge: DigestChallenge, creds: DigestCredentials, req: DigestRequest): string {
  const h = (s: string): string => hash(challenge.algorithm, s);
  let ha1 = h(`${creds.username}:${challenge.realm}:${creds.password}`);
  if (challenge.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${challenge.nonce}:${req.cnonce}`);
  const ha2 = h(`${req.method}:${req.uri}`);
  if (challenge.qop.length === 0) return h(`${ha1}:${challenge.nonce}:${ha2}`);
  return h(`${ha1}:${challenge.nonce}:${ncText(req.nc)}:${req.cnonce}:auth:${ha2}`);
}

function ncText(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

/** The `Authorization` / `Proxy-Authorization` value answering `challenge` (RFC 3261 §22.4). */
export function digestAuthorization(challenge: DigestChallenge, creds: DigestCredentials, req: DigestRequest): string {
  const parts = [
    `username=${quote(creds.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(req.uri)}`,
    `response="${digestResponse(challenge, creds, req)}"`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (challenge.qop.length > 0) parts.push('qop=auth', `nc=${ncText(req.nc)}`, `cnonce=${quote(req.cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
