/**
 * Digest authentication, client side (RFC 3261 §22.2–22.4, RFC 2617 §3.2.2, RFC 8760): picks the challenge
 * to answer among a response's `WWW-Authenticate` / `Proxy-Authenticate` values and writes the
 * `Authorization` / `Proxy-Authorization` value that answers it, on the shared digest functions.
 */
import { answerChallenge, formatCredentials, parseChallenge, type DigestChallenge } from './digest';

/** A configured account that answers challenges. */
export interface DigestAccount {
  readonly username: string;
  readonly password: string;
}

/** What {@link digestAuthorization} needs besides the challenge and the account. */
export interface DigestRequest {
  readonly method: string;
  /** The Request-URI as sent (`digest-uri`). */
  readonly uri: string;
  /** Client nonce (any unguessable token); only used with qop. */
  readonly cnonce: string;
  /** Nonce count for this nonce, 1 for its first use. */
  readonly nc: number;
}

/** A challenge the client can answer: qop `auth` offered, or no qop at all (RFC 2069 form). */
function answerable(c: DigestChallenge | undefined): c is DigestChallenge {
  return c !== undefined && (c.qop.length === 0 || c.qop.includes('auth'));
}

/**
 * The challenge to answer among several header values: the first SHA-256 one when any (RFC 8760 §2.4: the
 * client uses the strongest it supports), else the first MD5 one; undefined when none can be answered.
 */
export function pickDigestChallenge(values: readonly string[]): DigestChallenge | undefined {
  const all = values.map(parseChallenge).filter(answerable);
  return all.find((c) => c.algorithm === 'SHA-256') ?? all[0];
}

/** The `Authorization` / `Proxy-Authorization` value answering `challenge` (RFC 3261 §22.4). */
export function digestAuthorization(challenge: DigestChallenge, account: DigestAccount, req: DigestRequest): string {
  return formatCredentials(answerChallenge(challenge, { ...account, ...req }));
}
