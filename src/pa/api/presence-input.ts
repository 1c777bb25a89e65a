import { DomainError } from '../../common/domain-error';
import { checkLength } from '../../common/field-limits';

/** Largest expires we take (seconds): what fits a signed 32-bit integer, like SIP's delta-seconds cap. */
const MAX_EXPIRES = 2 ** 31 - 1;

/** What a REST or WebSocket client sends to publish a simple presence status. */
export interface StatusInput {
  readonly status?: 'open' | 'closed';
  readonly note?: string;
  readonly expires?: number;
}

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
 * `status`, `note` and `expires` of a publish, checked one by one so the error names the field:
 * `status` is `"open"` or `"closed"` (absent only for a refresh or a removal), `note` a string.
 */
export function readStatusInput(obj: JsonObject): StatusInput {
  const { status, note } = obj;
  if (status !== undefined && status !== 'open' && status !== 'closed') {
    throw new DomainError(400, `status must be "open" or "closed", got ${JSON.stringify(status)}`, 'status');
  }
  if (note !== undefined && typeof note !== 'string') throw new DomainError(400, 'note must be a string', 'note');
  checkLength('note', note);
  if (note !== undefined && status === undefined) {
    throw new DomainError(400, 'status is required with note ("open" or "closed")', 'status');
  }
  const expires = parseExpires(obj.expires);
  return {
    ...(status !== undefined && { status }),
    ...(note !== undefined && { note }),
    ...(expires !== undefined && { expires }),
  };
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
export function mediaType(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return t === '' ? undefined : t;
}
