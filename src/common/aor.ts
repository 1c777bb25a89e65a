import { DomainError } from './domain-error';
import { checkLength } from './field-limits';

/**
 * Reads an AoR given in a URL or a JSON body: `sip:alice@example.com`, `sips:...` or `alice@example.com`
 * (taken as sip:). Returns the canonical `sip:user@host` form the location and presence tables use.
 */
export function parseAor(input: unknown, field = 'aor'): string {
  if (typeof input !== 'string') {
    const fault =
      input === undefined || input === null ? 'is required' : 'must be one string, e.g. sip:alice@example.com';
    throw new DomainError(400, `${field} ${fault}`, field);
  }
  if (input.trim() === '') throw new DomainError(400, `${field} is required`, field);
  if (/\p{Cc}/u.test(input)) throw new DomainError(400, `${field} must not contain control characters`, field);
  let s = input.trim();
  if (!/^[a-z][a-z0-9+.-]*:/i.test(s)) s = `sip:${s}`;
  const m = /^(sips?):([^@\s;?<>"]+)@([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/i.exec(s);
  if (!m)
    throw new DomainError(
      400,
      `${field} must be a SIP AoR such as sip:alice@example.com, got ${JSON.stringify(input)}`,
      field,
    );
  // sips: names the same AoR, reached over TLS only (RFC 5630 §3.1).
  const aor = `sip:${m[2]}@${m[3].toLowerCase()}`;
  checkLength('aor', aor, field);
  return aor;
}

/** The host of a URI (`sip:user@host:port;params` → `host`), lower case. */
export function hostOf(uri: string): string {
  const rest = uri.replace(/^[a-z][a-z0-9+.-]*:/i, '');
  const afterAt = rest.slice(rest.lastIndexOf('@') + 1);
  return afterAt.split(/[;:?>]/, 1)[0].toLowerCase();
}
