import { DomainError } from '../../common/domain-error';
import { mediaType } from '../core/accept';

/** Largest expires we take (seconds): what fits a signed 32-bit integer, like SIP's delta-seconds cap. */
const MAX_EXPIRES = 2 ** 31 - 1;

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses fields a message does not define, so that a typo (`staus`) is an error rather than ignored. */
export function onlyFields(obj: JsonObject, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new DomainError(400, `${key} is not a field of ${where} (allowed: ${allowed.join(', ')})`, key);
    }
  }
}

/** `expires` from JSON: absent, or a non-negative integer number of seconds. */
export function parseExpires(value: unknown, field = 'expires'): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_EXPIRES) {
    throw new DomainError(400, `${field} must be a non-negative integer number of seconds`, field);
  }
  return value;
}

/** `expires` from a query string: absent/empty, or decimal digits. */
export function parseExpiresQuery(raw: string | undefined, field = 'expires'): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,10}$/.test(raw)) {
    throw new DomainError(400, `${field} must be a non-negative integer number of seconds`, field);
  }
  return parseExpires(Number(raw), field);
}

/**
 * The entity tag of an `If-Match` header (RFC 9110 §13.1.1): one tag, quoted (or bare, leniently);
 * `*` and lists are refused since a publication is addressed by exactly one tag.
 */
export function parseIfMatch(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let v = raw.trim();
  if (v === '') return undefined;
  if (v.startsWith('W/')) v = v.slice(2);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  if (!/^[\x21\x23-\x7e]+$/.test(v) || v === '*' || v.includes(',')) {
    throw new DomainError(400, 'If-Match must be one entity tag as returned in ETag, e.g. "abc123"', 'If-Match');
  }
  return v;
}

/** The media type of a Content-Type header, lowercase, without parameters. */
export function contentMediaType(contentType: string | undefined): string | undefined {
  const t = contentType === undefined ? '' : mediaType(contentType);
  return t === '' ? undefined : t;
}
