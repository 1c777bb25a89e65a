import { SipParseError } from '../errors/sip-parse-error';
import { escapeUser, formatParams, isToken, parseParams, unescapeUri } from './text';

const HOST_CHARS = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._') HOST_CHARS[ch.charCodeAt(0)] = 1;
const HAS_UPPER = /[A-Z]/;
const BAD_USER = /[\s<>"]/;

/**
 * URI parameter names with `%HH` escapes read as the characters they encode (RFC 3261 §19.1.4; RFC 4475
 * §3.1.1.3: `;%6C%72` is `;lr`) when those form a token; values keep their escapes, since unescaping them is
 * not idempotent (`v%61lue%25%34%31` is `value%41`, not `valueA`).
 */
function unescapeNames(params: Map<string, string | null>): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const [name, value] of params) {
    const plain = name.includes('%') ? unescapeUri(name).toLowerCase() : name;
    out.set(isToken(plain) ? plain : name, value);
  }
  return out;
}

/**
 * A SIP or SIPS URI (RFC 3261 §19.1), or a URI of another scheme kept opaque.
 *
 * `sip:user:password@host:port;uri-parameters?headers`. The scheme and host are lowercased (§19.1.4
 * compares them case-insensitively); IPv6 references keep their brackets; parameter names are lowercased
 * and a flag parameter such as `lr` maps to `null`. Escaped characters stay escaped in `user` as received.
 */
export class SipUri {
  /** `sip`, `sips`, or another scheme in lowercase (`tel`, `urn`, ...). */
  scheme: string;
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Map<string, string | null>;
  private headerMap: Map<string, string> | undefined;
  /** For schemes other than `sip`/`sips`: everything after the colon, as received. */
  opaque?: string;

  constructor(init: {
    scheme?: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params?: Map<string, string | null>;
    headers?: Map<string, string>;
    opaque?: string;
  }) {
    this.scheme = init.scheme ?? 'sip';
    this.user = init.user;
    this.password = init.password;
    this.host = init.host;
    this.port = init.port;
    this.params = init.params ?? new Map<string, string | null>();
    this.headerMap = init.headers;
    this.opaque = init.opaque;
  }

  /** URI headers (`?name=value&...`, RFC 3261 §19.1.1), created on first access. */
  get headers(): Map<string, string> {
    return (this.headerMap ??= new Map());
  }

  set headers(value: Map<string, string>) {
    this.headerMap = value;
  }

  /** Whether the URI has `?headers` (without creating the map). */
  get hasHeaders(): boolean {
    return this.headerMap !== undefined && this.headerMap.size > 0;
  }

  /** Whether the scheme is `sip` or `sips`. */
  get isSip(): boolean {
    return this.scheme === 'sip' || this.scheme === 'sips';
  }

  /**
   * Parses a URI (RFC 3261 §25.1 `SIP-URI` / `SIPS-URI` / `absoluteURI`).
   * @throws SipParseError `Bad URI` when the text is not a URI.
   */
  static parse(text: string): SipUri {
    const s = text.trim();
    let colon: number;
    let scheme: string;
    if (s.startsWith('sip:')) {
      colon = 3;
      scheme = 'sip';
    } else if (s.startsWith('sips:')) {
      colon = 4;
      scheme = 'sips';
    } else {
      colon = s.indexOf(':');
      if (colon <= 0) throw new SipParseError('Bad URI');
      scheme = s.slice(0, colon).toLowerCase();
      if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new SipParseError('Bad URI');
      if (scheme !== 'sip' && scheme !== 'sips') {
        const opaque = s.slice(colon + 1);
        if (opaque === '' || /\s/.test(opaque)) throw new SipParseError('Bad URI');
        return new SipUri({ scheme, host: '', opaque });
      }
    }
    const n = s.length;
    const at = s.indexOf('@', colon + 1);
    let user: string | undefined;
    let password: string | undefined;
    let hostStart = colon + 1;
    if (at !== -1) {
      const pw = s.indexOf(':', colon + 1);
      if (pw === -1 || pw > at) user = s.slice(colon + 1, at);
      else {
        user = s.slice(colon + 1, pw);
        password = s.slice(pw + 1, at);
      }
      if (user === '' || BAD_USER.test(user)) throw new SipParseError('Bad URI');
      hostStart = at + 1;
    }
    // host [":" port]
    let i = hostStart;
    let host: string;
    if (s.charCodeAt(i) === 0x5b /* [ */) {
      const close = s.indexOf(']', i);
      if (close === -1) throw new SipParseError('Bad URI');
      host = s.slice(i, close + 1).toLowerCase();
      if (!/^\[[0-9a-f:.]+\]$/.test(host)) throw new SipParseError('Bad URI');
      i = close + 1;
    } else {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c === 0x3a || c === 0x3b || c === 0x3f) break;
        if (c >= 128 || HOST_CHARS[c] === 0) throw new SipParseError('Bad URI');
      }
      if (i === hostStart) throw new SipParseError('Bad URI');
      host = s.slice(hostStart, i);
      if (HAS_UPPER.test(host)) host = host.toLowerCase();
    }
    let port: number | undefined;
    if (s.charCodeAt(i) === 0x3a) {
      let j = i + 1;
      let p = 0;
      for (; j < n; j++) {
        const c = s.charCodeAt(j);
        if (c < 0x30 || c > 0x39) break;
        p = p * 10 + c - 0x30;
      }
      if (j === i + 1 || p > 65535) throw new SipParseError('Bad URI');
      port = p;
      i = j;
    }
    const q = s.indexOf('?', i);
    const paramEnd = q === -1 ? n : q;
    if (i < paramEnd && s.charCodeAt(i) !== 0x3b) throw new SipParseError('Bad URI');
    let params =
      i < paramEnd ? parseParams(q === -1 ? s : s.slice(0, q), i, 'Bad URI') : new Map<string, string | null>();
    const pct = s.indexOf('%', i);
    if (pct !== -1 && pct < paramEnd) params = unescapeNames(params);
    let headers: Map<string, string> | undefined;
    if (q !== -1) {
      headers = new Map<string, string>();
      for (const part of s.slice(q + 1).split('&')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        if (eq === -1) headers.set(part, '');
        else headers.set(part.slice(0, eq), part.slice(eq + 1));
      }
    }
    return new SipUri({ scheme, user, password, host, port, params, headers });
  }

  /** The URI as text (RFC 3261 §19.1.1). */
  toString(): string {
    if (this.opaque !== undefined) return `${this.scheme}:${this.opaque}`;
    let out = this.scheme + ':';
    if (this.user !== undefined) {
      out += this.user;
      if (this.password !== undefined) out += ':' + this.password;
      out += '@';
    }
    out += this.host;
    if (this.port !== undefined) out += ':' + String(this.port);
    out += formatParams(this.params);
    if (this.headerMap !== undefined && this.headerMap.size > 0) {
      const parts: string[] = [];
      for (const [k, v] of this.headers) parts.push(`${k}=${v}`);
      out += '?' + parts.join('&');
    }
    return out;
  }

  /**
   * The address of record: `sip:user@host` without port, parameters or headers; the user part unescaped
   * and re-escaped canonically, so `sip:%61lice@Example.COM:5060` → `sip:alice@example.com`. A `sips:` URI
   * names the same resource reached over TLS only (RFC 5630 §3.1): its AoR is the `sip:` one.
   */
  aor(): string {
    if (this.opaque !== undefined) return this.toString();
    const scheme = this.scheme === 'sips' ? 'sip' : this.scheme;
    if (this.user === undefined) return `${scheme}:${this.host}`;
    return `${scheme}:${escapeUser(unescapeUri(this.user))}@${this.host}`;
  }

  /** A deep copy. */
  clone(): SipUri {
    return new SipUri({
      scheme: this.scheme,
      user: this.user,
      password: this.password,
      host: this.host,
      port: this.port,
      params: new Map(this.params),
      headers: this.headerMap === undefined ? undefined : new Map(this.headerMap),
      opaque: this.opaque,
    });
  }
}
