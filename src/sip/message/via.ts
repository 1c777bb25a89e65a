import { SipParseError } from '../errors/sip-parse-error';
import { isTokenCode, parseParams } from './text';

const SPACED_PROTOCOL = /^\s*SIP\s*\/\s*2\.0\s*\/\s*/i;

function isHostChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2e ||
    c === 0x2d ||
    c === 0x5f
  );
}

function skipWsp(s: string, i: number): number {
  while (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09) i++;
  return i;
}

/**
 * One Via value (RFC 3261 §20.42, §18.2.1; `rport` from RFC 3581):
 * `SIP/2.0/UDP host:port;branch=z9hG4bK...;received=1.2.3.4;rport=5060`.
 * `branch`, `received` and `rport` read and write `params`, which keeps every parameter in order.
 */
export class Via {
  /** Transport in uppercase: `UDP`, `TCP`, `TLS`, `WS`, `WSS`, or another token. */
  protocol: string;
  /** The sent-by host (lowercase; IPv6 in brackets). */
  host: string;
  port?: number;
  params: Map<string, string | null>;

  constructor(protocol: string, host: string, port?: number, params?: Map<string, string | null>) {
    this.protocol = protocol.toUpperCase();
    this.host = host;
    this.port = port;
    this.params = params ?? new Map<string, string | null>();
  }

  get branch(): string | undefined {
    return this.params.get('branch') ?? undefined;
  }

  set branch(value: string | undefined) {
    setParam(this.params, 'branch', value);
  }

  get received(): string | undefined {
    return this.params.get('received') ?? undefined;
  }

  set received(value: string | undefined) {
    setParam(this.params, 'received', value);
  }

  /** RFC 3581: `undefined` when absent, `null` when present without a value, else the port. */
  get rport(): number | null | undefined {
    if (!this.params.has('rport')) return undefined;
    const v = this.params.get('rport');
    if (v === null || v === undefined || v === '') return null;
    const n = Number(v);
    return Number.isInteger(n) ? n : null;
  }

  set rport(value: number | null | undefined) {
    if (value === undefined) this.params.delete('rport');
    else this.params.set('rport', value === null ? null : String(value));
  }

  /**
   * Parses one via-parm (`sent-protocol LWS sent-by *( SEMI via-params )`); whitespace around `/` and `:` is
   * allowed as LWS permits.
   * @throws SipParseError `Bad Via header`.
   */
  static parse(value: string): Via {
    const n = value.length;
    let i: number;
    if (value.startsWith('SIP/2.0/')) i = 8;
    else {
      const m = SPACED_PROTOCOL.exec(value);
      if (m === null) throw new SipParseError('Bad Via header');
      i = m[0].length;
    }
    let j = i;
    while (j < n && isTokenCode(value.charCodeAt(j))) j++;
    if (j === i) throw new SipParseError('Bad Via header');
    const protocol = value.slice(i, j);
    let k = skipWsp(value, j);
    if (k === j) throw new SipParseError('Bad Via header');
    const hostStart = k;
    if (value.charCodeAt(k) === 0x5b /* [ */) {
      k = value.indexOf(']', k) + 1;
      if (k === 0) throw new SipParseError('Bad Via header');
    } else {
      while (k < n && isHostChar(value.charCodeAt(k))) k++;
    }
    if (k === hostStart) throw new SipParseError('Bad Via header');
    const host = value.slice(hostStart, k).toLowerCase();
    let port: number | undefined;
    let p = skipWsp(value, k);
    if (value.charCodeAt(p) === 0x3a /* : */) {
      p = skipWsp(value, p + 1);
      let num = 0;
      const digits = p;
      for (; p < n; p++) {
        const c = value.charCodeAt(p);
        if (c < 0x30 || c > 0x39) break;
        num = num * 10 + c - 0x30;
      }
      if (p === digits || num > 65535) throw new SipParseError('Bad Via header');
      port = num;
      p = skipWsp(value, p);
    }
    if (p < n && value.charCodeAt(p) !== 0x3b /* ; */) throw new SipParseError('Bad Via header');
    return new Via(protocol, host, port, parseParams(value, p, 'Bad Via header'));
  }

  /** `SIP/2.0/PROTO host[:port];params`. */
  toString(): string {
    return this.stamped(undefined, undefined);
  }

  /**
   * What {@link toString} gives after `received` and `rport` were set to these values (each when given), leaving
   * this Via as it is and copying nothing: the top Via of a response, stamped per request.
   */
  stamped(received: string | undefined, rport: number | undefined): string {
    const port = this.port === undefined ? '' : ':' + String(this.port);
    let params = '';
    for (const [name, value] of this.params) {
      const v =
        received !== undefined && name === 'received'
          ? received
          : rport !== undefined && name === 'rport'
            ? String(rport)
            : value;
      params += v === null ? `;${name}` : `;${name}=${v}`;
    }
    if (received !== undefined && !this.params.has('received')) params += `;received=${received}`;
    if (rport !== undefined && !this.params.has('rport')) params += `;rport=${String(rport)}`;
    return `SIP/2.0/${this.protocol} ${this.host}${port}${params}`;
  }
}

function setParam(params: Map<string, string | null>, name: string, value: string | undefined): void {
  if (value === undefined) params.delete(name);
  else params.set(name, value);
}
