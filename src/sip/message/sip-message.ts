import { SipParseError } from '../errors/sip-parse-error';
import { NameAddr } from './name-addr';
import { SipHeaders } from './sip-headers';
import { SipUri } from './sip-uri';
import { isToken, parseParams } from './text';
import { Via } from './via';

/** The CSeq header (RFC 3261 §20.16). */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** The Event header (RFC 6665 §8.2.1): package name in lowercase, `id` parameter, all parameters. */
export interface EventHeader {
  readonly package: string;
  readonly id?: string;
  readonly params: ReadonlyMap<string, string | null>;
}

interface Cache {
  callId?: string;
  cseq?: CSeq;
  from?: NameAddr;
  to?: NameAddr;
  via?: Via[];
  contacts?: NameAddr[] | '*';
  event?: EventHeader | null;
}

/**
 * A SIP message (RFC 3261 §7): header fields and a body of bytes. Typed views of the headers are parsed on
 * first access and cached until the headers change. Accessors throw {@link SipParseError} naming the header
 * when its value is malformed (or `Missing X` when a mandatory one is absent).
 */
export abstract class SipMessage {
  headers: SipHeaders;
  /** The message body; its length in bytes is the Content-Length (RFC 3261 §20.14). */
  body: Buffer;
  private cache: Cache = {};
  private cacheRevision = 0;

  protected constructor(headers?: SipHeaders, body?: Buffer) {
    this.headers = headers ?? new SipHeaders();
    this.body = body ?? EMPTY;
  }

  private c(): Cache {
    if (this.cacheRevision !== this.headers.revision) {
      this.cache = {};
      this.cacheRevision = this.headers.revision;
    }
    return this.cache;
  }

  /** Call-ID (RFC 3261 §20.8). */
  get callId(): string {
    const c = this.c();
    if (c.callId !== undefined) return c.callId;
    const v = this.headers.get('call-id');
    if (v === undefined || v === '') throw new SipParseError('Missing Call-ID');
    if (/\s/.test(v)) throw new SipParseError('Bad Call-ID header');
    return (c.callId = v);
  }

  /** CSeq (RFC 3261 §20.16): sequence number below 2**31 and method. */
  get cseq(): CSeq {
    const c = this.c();
    if (c.cseq !== undefined) return c.cseq;
    const v = this.headers.get('cseq');
    if (v === undefined) throw new SipParseError('Missing CSeq');
    let i = 0;
    let seq = 0;
    for (; i < v.length; i++) {
      const d = v.charCodeAt(i);
      if (d < 0x30 || d > 0x39) break;
      seq = seq * 10 + d - 0x30;
    }
    if (i === 0 || i > 10 || seq >= 2 ** 31) throw new SipParseError('Bad CSeq header');
    const method = v.slice(i).trim();
    if (method.length === v.length - i || !isToken(method)) throw new SipParseError('Bad CSeq header');
    return (c.cseq = { seq, method });
  }

  /** From (RFC 3261 §20.20). */
  get from(): NameAddr {
    const c = this.c();
    return (c.from ??= this.address('from', 'From'));
  }

  /** To (RFC 3261 §20.39). */
  get to(): NameAddr {
    const c = this.c();
    return (c.to ??= this.address('to', 'To'));
  }

  /** Via values, topmost first (RFC 3261 §20.42); empty when there is none. */
  get via(): Via[] {
    const c = this.c();
    if (c.via !== undefined) return c.via;
    return (c.via = this.headers.getAll('via').map((v) => Via.parse(v)));
  }

  /** Contact values (RFC 3261 §20.10), or `'*'` for the wildcard of a REGISTER (§10.2.2). */
  contacts(): NameAddr[] | '*' {
    const c = this.c();
    if (c.contacts !== undefined) return c.contacts;
    const all = this.headers.getAll('contact');
    if (all.length === 1 && all[0] === '*') return (c.contacts = '*');
    return (c.contacts = all.map((v) => NameAddr.parse(v, 'Bad Contact header')));
  }

  /** Max-Forwards (RFC 3261 §20.22), 0–255. */
  get maxForwards(): number | undefined {
    return this.intHeader('max-forwards', 'Max-Forwards', 255);
  }

  /** Expires in seconds (RFC 3261 §20.19). Values beyond 2**32-1 are read as 2**32-1. */
  get expires(): number | undefined {
    return this.intHeader('expires', 'Expires', 4294967295);
  }

  /** The media type of Content-Type in lowercase, without parameters (RFC 3261 §20.15). */
  get contentType(): string | undefined {
    const v = this.headers.get('content-type');
    if (v === undefined) return undefined;
    const semi = v.indexOf(';');
    const t = (semi === -1 ? v : v.slice(0, semi)).replace(/\s+/g, '').toLowerCase();
    if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$/.test(t)) throw new SipParseError('Bad Content-Type header');
    return t;
  }

  /** Event (RFC 6665 §8.2.1); the package name is lowercased. */
  get event(): EventHeader | undefined {
    const c = this.c();
    if (c.event !== undefined) return c.event ?? undefined;
    const v = this.headers.get('event');
    if (v === undefined) {
      c.event = null;
      return undefined;
    }
    const semi = v.indexOf(';');
    const pkg = (semi === -1 ? v : v.slice(0, semi)).trim().toLowerCase();
    if (!/^[a-z0-9\-.!%*_+`'~]+$/.test(pkg)) throw new SipParseError('Bad Event header');
    const params = semi === -1 ? new Map<string, string | null>() : parseParams(v, semi, 'Bad Event header');
    const id = params.get('id') ?? undefined;
    return (c.event = { package: pkg, id, params });
  }

  /** Record-Route values in order (RFC 3261 §20.30). */
  get recordRoute(): string[] {
    return this.headers.getAll('record-route');
  }

  /** Route values in order (RFC 3261 §20.34). */
  get route(): string[] {
    return this.headers.getAll('route');
  }

  private address(key: string, label: string): NameAddr {
    const v = this.headers.get(key);
    if (v === undefined) throw new SipParseError(`Missing ${label} header`);
    return NameAddr.parse(v, `Bad ${label} header`);
  }

  private intHeader(key: string, label: string, max: number): number | undefined {
    const v = this.headers.get(key);
    if (v === undefined) return undefined;
    const t = v.trim();
    if (!/^\d+$/.test(t)) throw new SipParseError(`Bad ${label} header`);
    const n = Number(t);
    if (n > max) {
      if (key === 'expires') return max;
      throw new SipParseError(`Bad ${label} header`);
    }
    return n;
  }
}

const EMPTY = Buffer.alloc(0);

/** A request (RFC 3261 §7.1): method (case-sensitive, as sent) and Request-URI. */
export class SipRequest extends SipMessage {
  method: string;
  private uriText: string | undefined;
  private uriValue: SipUri | undefined;

  constructor(method: string, uri: SipUri | string, headers?: SipHeaders, body?: Buffer) {
    super(headers, body);
    this.method = method;
    if (typeof uri === 'string') this.uriText = uri;
    else this.uriValue = uri;
  }

  /**
   * The Request-URI; parsed on first access. A view of the text it was given: to change the Request-URI, assign
   * a URI (the text is then written from it). URI headers are not allowed there (RFC 3261 §19.1.1 Table 1;
   * RFC 4475 §3.1.2.11, escruri). @throws SipParseError `Bad Request-URI`.
   */
  get uri(): SipUri {
    if (this.uriValue === undefined) {
      let uri: SipUri;
      try {
        uri = SipUri.parse(this.uriText ?? '');
      } catch {
        throw new SipParseError('Bad Request-URI');
      }
      if (uri.hasHeaders) throw new SipParseError('Bad Request-URI (headers not allowed)');
      this.uriValue = uri;
    }
    return this.uriValue;
  }

  set uri(value: SipUri) {
    this.uriValue = value;
    this.uriText = undefined;
  }

  /** The Request-URI as text, without parsing it when it was never touched. */
  get uriString(): string {
    return this.uriText ?? this.uri.toString();
  }
}

/** A response (RFC 3261 §7.2): status code and reason phrase. */
export class SipResponse extends SipMessage {
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers?: SipHeaders, body?: Buffer) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }
}
