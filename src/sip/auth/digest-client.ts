/**
 * Digest authentication, client side (RFC 3261 §22.2–22.4, RFC 2617 §3.2.2, RFC 8760): which of a
 * response's challenges to answer, and the `Authorization` / `Proxy-Authorization` value that answers it.
 * The hashing and the header grammar are `digest.ts`'s (shared with the server side).
 */
import { answerChallenge, formatCredentials, parseChallenge, type DigestChallenge } from './digest';

/** Who answers a challenge: a username and its password. */
export interface ClientCredentials {
  readonly username: string;
  readonly password: string;
}

/** What the answer is computed over besides the challenge and credentials. */
export interface DigestRequest {
  readonly method: string;
  /** The Request-URI as sent (`digest-uri`). */
  readonly uri: string;
  /** Client nonce; a random one when absent (only used with qop=auth). */
  readonly cnonce?: string;
  /** Nonce count for this nonce, 1 for its first use. */
  readonly nc?: number;
}

/**
 * The challenge to answer among a response's `WWW-Authenticate` / `Proxy-Authenticate` values: the first
 * SHA-256 one when any (RFC 8760 §2.4: the strongest the client supports), else the first MD5 one; challenges
 * that cannot be answered (another scheme or algorithm, qop without `auth`) are skipped.
 */
export function pickDigestChallenge(values: readonly string[]): DigestChallenge | undefined {
  const usable = values
    .map(parseChallenge)
    .filter((c): c is DigestChallenge => c !== undefined && (c.qop.length === 0 || c.qop.includes('auth')));
  return usable.find((c) => c.algorithm === 'SHA-256') ?? usable[0];
}

/** The `Authorization` / `Proxy-Authorization` value answering `challenge` (qop=auth when offered). */
export function digestAuthorization(challenge: DigestChallenge, creds: ClientCredentials, req: DigestRequest): string {
  return formatCredentials(
    answerChallenge(challenge, {
      username: creds.username,
      password: creds.password,
      method: req.method,
      uri: req.uri,
      ...(req.nc !== undefined && { nc: req.nc }),
      ...(req.cnonce !== undefined && { cnonce: req.cnonce }),
    }),
  );
}
