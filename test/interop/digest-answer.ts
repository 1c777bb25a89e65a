/**
 * A test-side answer to a digest challenge (RFC 7616 §3.4, RFC 8760 for SHA-256): enough for the interop
 * suite's raw clients to pass Kamailio's auth_challenge, written from the RFC rather than taken from `src`.
 */
import { createHash } from 'node:crypto';
import { randomToken, type HeaderInput, type SipTestMessage } from '../utils/sip-test-client';

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

/** The parameters of a `WWW-Authenticate` / `Proxy-Authenticate: Digest ...` value. */
export function challengeParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.replace(/^\s*Digest\s+/i, '').matchAll(/([\w-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) {
    out[m[1].toLowerCase()] = m[2] ?? m[3];
  }
  return out;
}

/** The `Authorization` value answering `challenge` for `method` and `uri`. */
export function digestAuthorization(
  challenge: string,
  credentials: DigestCredentials,
  method: string,
  uri: string,
): string {
  const p = challengeParams(challenge);
  const algorithm = p.algorithm ?? 'MD5';
  const hash = (text: string): string =>
    createHash(algorithm.toUpperCase() === 'SHA-256' ? 'sha256' : 'md5')
      .update(text)
      .digest('hex');
  const ha1 = hash(`${credentials.username}:${p.realm}:${credentials.password}`);
  const ha2 = hash(`${method}:${uri}`);
  const qop = p.qop
    ?.split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const cnonce = randomToken(8);
  const nc = '00000001';
  const response = qop ? hash(`${ha1}:${p.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : hash(`${ha1}:${p.nonce}:${ha2}`);
  const fields = [
    `username="${credentials.username}"`,
    `realm="${p.realm}"`,
    `nonce="${p.nonce}"`,
    `uri="${uri}"`,
    `response="${response}"`,
    `algorithm=${algorithm}`,
  ];
  if (p.opaque !== undefined) fields.push(`opaque="${p.opaque}"`);
  if (qop) fields.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Digest ${fields.join(', ')}`;
}

/**
 * Sends a request (through `send`, given the extra headers) and, when it is challenged (401 or 407), once
 * more with the answer: the raw clients' way through a Kamailio that challenges. `responseOf` finds the
 * response in what `send` resolves with (a response, or a SUBSCRIBE's response and dialog).
 */
export async function sendWithCredentials<T>(
  send: (headers: HeaderInput) => Promise<T>,
  responseOf: (result: T) => SipTestMessage,
  credentials: DigestCredentials,
  method: string,
  uri: string,
): Promise<T> {
  const first = await send({});
  const status = responseOf(first).status;
  if (status !== 401 && status !== 407) return first;
  const www = status === 401;
  const challenge = responseOf(first).header(www ? 'www-authenticate' : 'proxy-authenticate') ?? '';
  const answer = digestAuthorization(challenge, credentials, method, uri);
  return send({ [www ? 'Authorization' : 'Proxy-Authorization']: answer });
}
