/**
 * `xs:anyURI` values as schema validators check them. The PIDF schema (RFC 3863 §4.4) types `entity` and
 * `<contact>` as anyURI, and libxml2 checks anyURI with an RFC 3986 parser, so `sip:alice@[2001:db8::1]`
 * (an opaque URI with brackets) or a stray `%` fails validation. We keep valid values as they are and
 * percent-encode the offending characters otherwise.
 */

const UNRESERVED = "A-Za-z0-9\\-._~!$&'()*+,;=";
const PCT = '%[0-9A-Fa-f]{2}';
const PCHAR = `(?:[${UNRESERVED}:@]|${PCT})`;
const NC_PCHAR = `(?:[${UNRESERVED}@]|${PCT})`;
const QUERY = `(?:[${UNRESERVED}:@/?]|${PCT})*`;
const AUTHORITY = `(?:(?:[${UNRESERVED}:]|${PCT})*@)?(?:\\[[0-9A-Fa-f:.]+\\]|(?:[${UNRESERVED}]|${PCT})*)(?::[0-9]{1,5})?`;
const ABEMPTY = `(?:/${PCHAR}*)*`;
const ABSOLUTE = `/(?:${PCHAR}+${ABEMPTY})?`;
const TAIL = `(?:\\?${QUERY})?(?:#${QUERY})?`;
const HIER = `(?://${AUTHORITY}${ABEMPTY}|${ABSOLUTE}|${PCHAR}+${ABEMPTY}|)`;
const RELATIVE = `(?://${AUTHORITY}${ABEMPTY}|${ABSOLUTE}|${NC_PCHAR}+${ABEMPTY}|)`;
const URI_REFERENCE = new RegExp(`^(?:[A-Za-z][A-Za-z0-9+.-]*:${HIER}${TAIL}|${RELATIVE}${TAIL})$`);
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// Characters libxml2 replaces by `_` before parsing an anyURI (xmlschemastypes.c); they never make it fail.
// eslint-disable-next-line no-control-regex -- control characters are what this matches.
const LENIENT = /[\u0000-\u001F\u007F-\uFFFF <>"{}|\\^`']/g;

/**
 * Whether a value passes an `xs:anyURI` check like libxml2's: whitespace collapsed, then an RFC 3986
 * URI-reference. Slightly stricter than libxml2 (IP literals, port length), never looser.
 */
export function isAnyUri(value: string): boolean {
  const collapsed = value.replace(/[\t\n\r ]+/g, ' ').trim();
  return URI_REFERENCE.test(collapsed.replace(LENIENT, '_'));
}

function encode(ch: string): string {
  if (ch.length === 1 && ch >= '\uD800' && ch <= '\uDFFF') return '%EF%BF%BD';
  return encodeURIComponent(ch).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The value itself when it is a valid anyURI; otherwise first only brackets, lone `%` and a second `#` are
 * percent-encoded (`sip:a@[::1]` → `sip:a@%5B::1%5D`), and when that is not enough everything after the
 * scheme except unreserved characters, sub-delims, `@` and (after a scheme) `:`.
 */
export function toAnyUri(value: string): string {
  if (isAnyUri(value)) return value;
  let hashes = 0;
  const gentle = value.replace(/%(?![0-9A-Fa-f]{2})|[[\]#]/g, (c) => (c === '#' && hashes++ === 0 ? c : encode(c)));
  if (isAnyUri(gentle)) return gentle;
  const scheme = SCHEME.exec(value)?.[0] ?? '';
  let out = scheme;
  for (const ch of value.slice(scheme.length)) {
    out += /[A-Za-z0-9\-._~!$&'()*+,;=@]/.test(ch) || (scheme !== '' && ch === ':') ? ch : encode(ch);
  }
  return out;
}
