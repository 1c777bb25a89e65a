import { sameAor } from './pidf';

/** The host of a URI (`sip:user@host:port;params` → `host`), lower case. */
export function hostOf(uri: string): string {
  const rest = uri.replace(/^[a-z][a-z0-9+.-]*:/i, '');
  const afterAt = rest.slice(rest.lastIndexOf('@') + 1);
  return afterAt.split(/[;:?>]/, 1)[0].toLowerCase();
}

/**
 * A setting's list of trusted sources — SIP URIs (`sip:as@example.com`) and domains (`pcscf.example.net`, for
 * every URI of that host) — as a test of one URI.
 */
export function trustedSources(entries: readonly string[]): (uri: string) => boolean {
  const uris = entries.filter((t) => t.includes(':'));
  const domains = new Set(entries.filter((t) => !t.includes(':')).map((t) => t.toLowerCase()));
  return (uri) => uris.some((t) => sameAor(t, uri)) || domains.has(hostOf(uri));
}
