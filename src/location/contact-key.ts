import { SipUri } from '../sip';

const COMPARED_PARAMS = ['transport', 'user', 'ttl', 'method', 'maddr'];

/**
 * A key under which two Contact URIs are equal when RFC 3261 §19.1.4 says they are: scheme and host
 * case-insensitive, user case-sensitive, port as written, and the parameters that must match when present.
 */
export function contactKey(uri: string): string {
  let u: SipUri;
  try {
    u = SipUri.parse(uri);
  } catch {
    return uri;
  }
  if (!u.isSip) return `${u.scheme}:${u.opaque ?? ''}`;
  const params = COMPARED_PARAMS.filter((p) => u.params.has(p))
    .map((p) => `;${p}=${(u.params.get(p) ?? '').toLowerCase()}`)
    .join('');
  return `${u.scheme}:${u.user ?? ''}@${u.host.toLowerCase()}:${u.port ?? ''}${params}`;
}
