/**
 * Header field names: compact forms (RFC 3261 §7.3.3, §20 and the extensions that define one), canonical
 * spelling for output, and which headers carry comma-separated lists (RFC 3261 §7.3.1).
 */

/** Compact form → lowercase long name. */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Lowercase long name → canonical spelling, for the headers whose spelling is not plain Title-Case. */
const CANONICAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  rack: 'RAck',
  rseq: 'RSeq',
  'p-asserted-identity': 'P-Asserted-Identity',
};

/**
 * Headers whose grammar is a comma-separated list (`#element`), split by `SipHeaders.getAll`. Headers whose
 * values may contain unquoted commas (Date, the authentication headers, Event, Subject, ...) are absent.
 */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-contact',
  'accept-encoding',
  'accept-language',
  'alert-info',
  'allow',
  'allow-events',
  'call-info',
  'contact',
  'content-encoding',
  'content-language',
  'error-info',
  'in-reply-to',
  'p-associated-uri',
  'path',
  'proxy-require',
  'reason',
  'record-route',
  'reject-contact',
  'require',
  'route',
  'security-client',
  'security-server',
  'security-verify',
  'service-route',
  'supported',
  'unsupported',
  'via',
  'warning',
]);

/** The lookup key of a header name: lowercase long form (`V`, `via`, `VIA` → `via`). */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

/** The spelling used on output for a header key: `call-id` → `Call-ID`, `max-forwards` → `Max-Forwards`. */
export function canonicalName(key: string): string {
  const special = CANONICAL[key];
  if (special !== undefined) return special;
  let out = '';
  let upper = true;
  for (const ch of key) {
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}

const nameCache = new Map<string, string>();

/**
 * The name stored for a header as received: compact forms become the canonical long name (so output
 * never mixes forms); other names keep their spelling.
 */
export function storedName(raw: string, key: string): string {
  if (raw.length !== 1) return raw;
  let cached = nameCache.get(key);
  if (cached === undefined) {
    cached = canonicalName(key);
    nameCache.set(key, cached);
  }
  return cached;
}

/** Whether header values of `key` are comma-separated lists. */
export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}
