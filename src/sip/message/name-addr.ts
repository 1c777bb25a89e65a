import { SipParseError } from '../errors/sip-parse-error';
import { SipUri } from './sip-uri';
import { formatParams, isTokenCode, isWsp, parseParams, quote, unquote } from './text';

/**
 * A `name-addr` or `addr-spec` with header parameters, as in From, To, Contact, Route, Record-Route,
 * Refer-To (RFC 3261 §20.10, §25.1): `"Display Name" <sip:uri;uri-param>;tag=abc`.
 */
export class NameAddr {
  /** The display name, unquoted and unescaped. */
  displayName?: string;
  uri: SipUri;
  /** Header parameters (`tag`, `expires`, `q`, `+sip.instance`, ...); names lowercase, flags `null`. */
  params: Map<string, string | null>;

  constructor(uri: SipUri, displayName?: string, params?: Map<string, string | null>) {
    this.uri = uri;
    this.displayName = displayName;
    this.params = params ?? new Map<string, string | null>();
  }

  /** The `tag` parameter (RFC 3261 §19.3). */
  get tag(): string | undefined {
    const t = this.params.get('tag');
    return t === null ? undefined : t;
  }

  set tag(value: string | undefined) {
    if (value === undefined) this.params.delete('tag');
    else this.params.set('tag', value);
  }

  /**
   * Parses a name-addr or addr-spec. With an addr-spec, everything after the first `;` that follows the host
   * is a header parameter, not a URI parameter (RFC 3261 §20.10).
   * @throws SipParseError `fault` (default `Bad address`) when the text does not parse.
   */
  static parse(text: string, fault = 'Bad address'): NameAddr {
    const s = text.trim();
    let i = 0;
    let displayName: string | undefined;
    if (s.startsWith('"')) {
      let j = 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) throw new SipParseError(fault);
      displayName = unquote(s.slice(0, j + 1));
      i = j + 1;
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (s[i] !== '<') throw new SipParseError(fault);
    }
    const lt = s.indexOf('<', i);
    if (lt !== -1 && (displayName !== undefined || !s.slice(i, lt).includes(':'))) {
      const gt = s.indexOf('>', lt);
      if (gt === -1) throw new SipParseError(fault);
      if (displayName === undefined) {
        const dn = s.slice(i, lt).trim();
        // RFC 3261 §25.1 display-name = *(token LWS) / quoted-string; RFC 4475 §3.1.2.15 (baddn).
        if (!isUnquotedDisplayName(dn)) throw new SipParseError(fault);
        if (dn !== '') displayName = dn;
      }
      const inner = s.slice(lt + 1, gt);
      // RFC 4475 §3.1.2.7 (badaspec): no whitespace inside the angle brackets.
      if (inner.length === 0 || isWsp(inner.charCodeAt(0)) || isWsp(inner.charCodeAt(inner.length - 1))) {
        throw new SipParseError(fault);
      }
      const uri = parseUri(inner, fault);
      const rest = s.slice(gt + 1).trim();
      if (rest !== '' && !rest.startsWith(';')) throw new SipParseError(fault);
      return new NameAddr(uri, displayName, parseParams(rest, 0, fault));
    }
    // addr-spec: parameters after the host belong to the header.
    const at = s.indexOf('@');
    const semi = s.indexOf(';', at === -1 ? 0 : at);
    const uriText = (semi === -1 ? s : s.slice(0, semi)).trimEnd();
    if (/[\s,?]/.test(uriText)) throw new SipParseError(fault);
    const uri = parseUri(uriText, fault);
    return new NameAddr(uri, undefined, semi === -1 ? new Map() : parseParams(s, semi, fault));
  }

  /** Always the name-addr form with `<...>` (RFC 3261 §20: safe whatever the URI holds). */
  toString(): string {
    return this.format();
  }

  /** As {@link toString} without the parameter `skip` (`tag`: the address a dialog keeps), copying nothing. */
  format(skip?: string): string {
    const dn =
      this.displayName === undefined
        ? ''
        : (/^[\w.\-!%*+`'~ ]+$/.test(this.displayName) ? this.displayName : quote(this.displayName)) + ' ';
    return `${dn}<${this.uri.toString()}>${formatParams(this.params, skip)}`;
  }

  /** A deep copy. */
  clone(): NameAddr {
    return new NameAddr(this.uri.clone(), this.displayName, new Map(this.params));
  }
}

function parseUri(text: string, fault: string): SipUri {
  try {
    return SipUri.parse(text);
  } catch {
    throw new SipParseError(fault);
  }
}

/**
 * Whether `text` is a display name that needs no quotes: tokens and whitespace (RFC 3261 §25.1). UTF-8
 * beyond ASCII is let through, as phones send it unquoted and it is unambiguous; separators such as `,`
 * `;` `"` `:` `@` are not.
 */
function isUnquotedDisplayName(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && !isTokenCode(c) && !isWsp(c)) return false;
  }
  return true;
}
