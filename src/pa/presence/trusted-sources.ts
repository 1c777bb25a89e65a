import { hostOf } from '../../common/aor';
import { sameAor } from './pidf';

/**
 * A setting's list of trusted sources — SIP URIs (`sip:as@example.com`) and domains (`pcscf.example.net`, for
 * every URI of that host) — as a test of one URI.
 */
export function trustedSources(entries: readonly string[]): (uri: string) => boolean {
  const uris = entries.filter((t) => t.includes(':'));
  const domains = new Set(entries.filter((t) => !t.includes(':')).map((t) => t.toLowerCase()));
  return (uri) => uris.some((t) => sameAor(t, uri)) || domains.has(hostOf(uri));
}
