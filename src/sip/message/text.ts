/**
 * Small lexical helpers for RFC 3261 §25.1 (LWS, quoted-string, escaped) shared by the header parsers.
 */
import { SipParseError } from '../errors/sip-parse-error';

/** RFC 3261 §25.1 `token` characters, as a table indexed by char code. */
const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN_CHARS[ch.charCodeAt(0)] = 1;
}

/** Whether char code `c` may appear in an RFC 3261 token. */
export function isTokenCode(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1;
}

/** Whether `s` is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/** Splits a header value at top-level commas: commas inside quoted strings or `<...>` do not split. */
export function splitList(value: string): string[] {
  if (!value.includes(',')) {
    const t = value.trim();
    return t === '' ? [] : [t];
  }
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c /* < */) inAngle = true;
    else if (c === 0x3e /* > */) inAngle = false;
    else if (c === 0x2c /* , */ && !inAngle) {
      const item = value.slice(start, i).trim();
      if (item !== '') out.push(item);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/**
 * Parses `;name=value;flag` generic parameters (RFC 3261 §25.1 `generic-param`), starting at `text[from]`
 * which must be `;` or the end. Names are lowercased; a flag gets `null`; quoted values keep their quotes.
 * Throws `SipParseError(fault)` on an empty name or an unterminated quoted value.
 */
export function parseParams(text: string, from: number, fault: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  let i = from;
  const n = text.length;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (c === SEMI || c === SP || c === HT) c = text.charCodeAt(++i);
    if (i >= n) break;
    let j = i;
    while (j < n && (c = text.charCodeAt(j)) !== EQ && c !== SEMI) j++;
    let nameEnd = j;
    while (nameEnd > i && isWsp(text.charCodeAt(nameEnd - 1))) nameEnd--;
    if (nameEnd === i) throw new SipParseError(fault);
    const name = text.slice(i, nameEnd).toLowerCase();
    if (c === EQ && j < n) {
      j++;
      while (j < n && isWsp(text.charCodeAt(j))) j++;
      let k = j;
      if (text.charCodeAt(k) === DQUOTE) {
        k++;
        while (k < n && text.charCodeAt(k) !== DQUOTE) k += text.charCodeAt(k) === BSLASH ? 2 : 1;
        if (k >= n) throw new SipParseError(fault);
        k++;
      }
      while (k < n && text.charCodeAt(k) !== SEMI) k++;
      let valueEnd = k;
      while (valueEnd > j && isWsp(text.charCodeAt(valueEnd - 1))) valueEnd--;
      params.set(name, text.slice(j, valueEnd));
      i = k;
    } else {
      params.set(name, null);
      i = j;
    }
  }
  return params;
}

const SEMI = 0x3b;
const SP = 0x20;
const HT = 0x09;
const EQ = 0x3d;
const DQUOTE = 0x22;
const BSLASH = 0x5c;

/** Whether char code `c` is SP or HTAB (RFC 3261 §25.1 WSP). */
export function isWsp(c: number): boolean {
  return c === SP || c === HT;
}

/** Serializes a parameter map as `;name=value;flag`. */
export function formatParams(params: ReadonlyMap<string, string | null>, skip?: string): string {
  let out = '';
  for (const [name, value] of params) {
    if (name !== skip) out += value === null ? `;${name}` : `;${name}=${value}`;
  }
  return out;
}

/** Removes surrounding double quotes and backslash escapes (RFC 3261 §25.1 `quoted-string`). */
export function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    const inner = text.slice(1, -1);
    return inner.includes('\\') ? inner.replace(/\\(.)/g, '$1') : inner;
  }
  return text;
}

/** Wraps a string in double quotes, escaping `"` and `\`. */
export function quote(text: string): string {
  return '"' + text.replace(/(["\\])/g, '\\$1') + '"';
}

/** Decodes `%HH` escapes (RFC 3261 §25.1 `escaped`); malformed escapes are kept as they are. */
export function unescapeUri(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

/** Characters allowed unescaped in the user part (RFC 3261 §25.1 `user`: unreserved / user-unreserved). */
const USER_SAFE = /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/;

/** Escapes a user part canonically: every character outside `user`'s unescaped set becomes `%HH`. */
export function escapeUser(text: string): string {
  let out = '';
  for (const ch of text) {
    if (USER_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * A copy of `s` that holds its own characters. V8 keeps a substring cut from a larger string as a view of
 * it, so a field taken from a message and held for an hour (a dialog's addresses, a subscription's AoR) would
 * keep the whole message text alive; records held for long keep copies instead.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
