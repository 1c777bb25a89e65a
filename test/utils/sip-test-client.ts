/**
 * A small raw SIP user agent for end-to-end tests: UDP, TCP and WebSocket (RFC 7118, subprotocol `sip`).
 *
 * It builds and reads messages as plain strings and knows nothing of the server's own SIP stack
 * (nothing from `src/` is imported), so that tests exercise the server honestly. It is deliberately
 * small: a non-INVITE client transaction with Timer E/F on UDP (RFC 3261 §17.1.2.2), answers to the
 * server's requests (auto or by hand, the same answer again on a retransmission), a lenient parser for
 * assertions, and helpers for SUBSCRIBE dialogs (RFC 6665), PUBLISH (RFC 3903) and REGISTER.
 */
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import WebSocket from 'ws';

export type SipTestTransport = 'udp' | 'tcp' | 'tls' | 'ws';
export type ViaTransport = 'UDP' | 'TCP' | 'TLS' | 'WS';
export type HeaderInput = Record<string, string | string[] | number>;

// ---------------------------------------------------------------------------------------------------------------
// Parser for assertions
// ---------------------------------------------------------------------------------------------------------------

/** RFC 3261 §7.3.3 and the compact forms registered since (RFC 3265, 3515, 3892, 4028, 4474, 3841). */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
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

/** Lowercase long header name for any spelling, compact or not. */
export function canonicalHeaderName(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT_FORMS[lower] ?? lower;
}

/** A parsed SIP message, for assertions. Header names are lowercase long forms. */
export interface SipTestMessage {
  /** The whole message as received (latin1-safe: decoded as UTF-8). */
  readonly raw: string;
  readonly startLine: string;
  readonly kind: 'request' | 'response';
  readonly method?: string;
  readonly uri?: string;
  readonly status?: number;
  readonly reason?: string;
  /** One entry per header line (folded lines joined), in order, values trimmed; lists are not split. */
  readonly headers: Map<string, string[]>;
  /** Header names in the order they appeared (lowercase long forms, repeated when repeated). */
  readonly headerOrder: string[];
  /** First value of a header (compact or long name, any case), or undefined. */
  header(name: string): string | undefined;
  /** All values of a header, comma-separated lists split (quotes and `<...>` respected). */
  headerValues(name: string): string[];
  /** The body, cut at Content-Length when present. */
  readonly body: string;
  /** The body's bytes as received (a binary body is not UTF-8 text). */
  readonly bodyBytes: Buffer;
  readonly callId?: string;
  readonly cseq?: { seq: number; method: string };
  /** `branch` parameter of the topmost Via. */
  readonly branch?: string;
  readonly fromTag?: string;
  readonly toTag?: string;
  /** Time the message was received (Date.now()), set by the client. */
  receivedAt?: number;
  /** How it arrived, set by the client: over its own socket, or over a connection to its TCP listener. */
  receivedOver?: SipTestTransport;
  /** True when the client saw a request with the same top-Via branch, method and CSeq before. */
  retransmission?: boolean;
}

/** Splits a header value on top-level commas, keeping quoted strings and `<...>` together. */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let depthAngle = 0;
  let inQuotes = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuotes) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
    else if (ch === '<') depthAngle++;
    else if (ch === '>') depthAngle = Math.max(0, depthAngle - 1);
    else if (ch === ',' && depthAngle === 0) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out.filter((v) => v !== '');
}

/** Value of a `;name=value` parameter in a header value (outside `<...>`), or undefined. */
export function headerParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const close = value.lastIndexOf('>');
  const params = close >= 0 ? value.slice(close + 1) : value;
  const re = new RegExp(`;\\s*${name.replace(/[-]/g, '\\-')}\\s*(?:=\\s*("[^"]*"|[^;,\\s]*))?`, 'i');
  const m = re.exec(params);
  if (!m) return undefined;
  const v = m[1] ?? '';
  return v.startsWith('"') ? v.slice(1, -1) : v;
}

/** The URI inside `<...>` of a name-addr, or the addr-spec up to its first `;` otherwise. */
export function uriOf(nameAddr: string): string {
  const lt = nameAddr.indexOf('<');
  if (lt >= 0) {
    const gt = nameAddr.indexOf('>', lt);
    return nameAddr.slice(lt + 1, gt < 0 ? undefined : gt).trim();
  }
  const semi = nameAddr.indexOf(';');
  return (semi < 0 ? nameAddr : nameAddr.slice(0, semi)).trim();
}

/**
 * Parses one SIP message leniently (CRLF or LF line ends, folding, compact forms). Throws when there is no
 * recognisable start line.
 */
export function parse(raw: string | Buffer): SipTestMessage {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  let headerEnd = buf.indexOf('\r\n\r\n');
  let sepLen = 4;
  const lfEnd = buf.indexOf('\n\n');
  if (headerEnd < 0 || (lfEnd >= 0 && lfEnd < headerEnd)) {
    headerEnd = lfEnd;
    sepLen = 2;
  }
  const headText = (headerEnd < 0 ? buf : buf.subarray(0, headerEnd)).toString('utf8');
  let bodyBuf = headerEnd < 0 ? Buffer.alloc(0) : buf.subarray(headerEnd + sepLen);

  const lines = headText.replace(/^(\r?\n)+/, '').split(/\r?\n/);
  const startLine = lines.shift() ?? '';
  const headers = new Map<string, string[]>();
  const headerOrder: string[] = [];
  let current: { name: string; value: string } | undefined;
  const flush = (): void => {
    if (!current) return;
    const list = headers.get(current.name) ?? [];
    list.push(current.value.trim());
    headers.set(current.name, list);
    headerOrder.push(current.name);
    current = undefined;
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line) && current) {
      current.value += ' ' + line.trim();
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current = { name: canonicalHeaderName(line.slice(0, colon)), value: line.slice(colon + 1) };
  }
  flush();

  const cl = headers.get('content-length')?.[0];
  if (cl !== undefined && /^\d+$/.test(cl) && Number(cl) < bodyBuf.length) bodyBuf = bodyBuf.subarray(0, Number(cl));

  let kind: 'request' | 'response';
  let method: string | undefined;
  let uri: string | undefined;
  let status: number | undefined;
  let reason: string | undefined;
  const resp = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/i.exec(startLine);
  if (resp) {
    kind = 'response';
    status = Number(resp[1]);
    reason = resp[2];
  } else {
    const req = /^(\S+)\s+(\S+)\s+SIP\/2\.0\s*$/i.exec(startLine);
    if (!req) throw new Error(`not a SIP message: start line ${JSON.stringify(startLine.slice(0, 80))}`);
    kind = 'request';
    method = req[1];
    uri = req[2];
  }

  const first = (name: string): string | undefined => headers.get(canonicalHeaderName(name))?.[0];
  const cseqText = first('cseq');
  const cseqMatch = cseqText === undefined ? null : /^(\d+)\s+(\S+)/.exec(cseqText);
  const topVia = first('via') === undefined ? undefined : splitHeaderList(first('via')!)[0];

  return {
    raw: buf.toString('utf8'),
    startLine,
    kind,
    method,
    uri,
    status,
    reason,
    headers,
    headerOrder,
    header: first,
    headerValues: (name: string) => (headers.get(canonicalHeaderName(name)) ?? []).flatMap(splitHeaderList),
    body: bodyBuf.toString('utf8'),
    bodyBytes: bodyBuf,
    callId: first('call-id'),
    cseq: cseqMatch ? { seq: Number(cseqMatch[1]), method: cseqMatch[2] } : undefined,
    branch: headerParam(topVia, 'branch'),
    fromTag: headerParam(first('from'), 'tag'),
    toTag: headerParam(first('to'), 'tag'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------------

export const FIXTURES_DIR = path.resolve(__dirname, '..', 'fixtures');

export interface LoadFixtureOptions {
  /**
   * `'recompute'` (default): an existing Content-Length (or `l:`) header is set to the body's byte length.
   * `'keep'`: the file's value is left as written (for tests of wrong lengths).
   * `'add'`: like recompute, and a Content-Length is appended when the fixture has none.
   */
  contentLength?: 'recompute' | 'keep' | 'add';
}

/**
 * Reads `test/fixtures/<name>.sip` (real CRLF line ends expected and kept), replaces every `{{var}}` with
 * `vars[var]` (an unknown variable is an error, so typos fail loudly) and recomputes Content-Length.
 */
export function loadFixture(name: string, vars: Record<string, string> = {}, options: LoadFixtureOptions = {}): string {
  const file = path.join(FIXTURES_DIR, name.endsWith('.sip') ? name : `${name}.sip`);
  const text = readFileSync(file, 'utf8').replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (_m, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`fixture ${name}: no value for {{${key}}}`);
    return value;
  });
  const mode = options.contentLength ?? 'recompute';
  if (mode === 'keep') return text;
  return setContentLength(text, mode === 'add');
}

/** Sets Content-Length (long or compact form) to the byte length of the body; appends one when asked. */
export function setContentLength(message: string, addIfMissing = false): string {
  let sep = '\r\n\r\n';
  let end = message.indexOf(sep);
  const lfEnd = message.indexOf('\n\n');
  if (end < 0 || (lfEnd >= 0 && lfEnd < end)) {
    sep = '\n\n';
    end = lfEnd;
  }
  if (end < 0) return message;
  const head = message.slice(0, end);
  const body = message.slice(end + sep.length);
  const length = Buffer.byteLength(body, 'utf8');
  const re = /^((?:content-length|l)[ \t]*:[ \t]*)\d*/im;
  if (re.test(head)) return head.replace(re, `$1${length}`) + sep + body;
  if (!addIfMissing) return message;
  const eol = sep === '\r\n\r\n' ? '\r\n' : '\n';
  return `${head}${eol}Content-Length: ${length}${sep}${body}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------------------------

export interface SipTestClientOptions {
  transport: SipTestTransport;
  /** Server address (loopback in tests). */
  host: string;
  port: number;
  /** WebSocket path, default `/sip`. */
  path?: string;
  /** TLS: CA certificate (PEM) the server is verified against; without it the server is not verified. */
  tlsCa?: string;
  /** Local address to bind (UDP/TCP), default 127.0.0.1. */
  localHost?: string;
  /** Timer T1 in ms (RFC 3261 §17.1.2.2), default 500. */
  t1?: number;
  /** Timer T2 in ms, default 4000. */
  t2?: number;
  /** Timer F in ms (default 64*T1 = 32 s): `request()` rejects when no final response arrives by then. */
  timerF?: number;
  /** Retransmit requests on UDP (Timer E). Default true. */
  retransmit?: boolean;
  /** User part for default From/Contact, default `tester`. */
  user?: string;
  /** Domain for default From, default `example.com`. */
  domain?: string;
  /** Max bytes waiting for a TCP frame before the stream is considered broken (default 1 MiB). */
  maxFrameBytes?: number;
  /**
   * UDP only: also listen on TCP at the same local port, as a phone whose Contact has no transport does
   * (RFC 3261 §18.1.1 lets a server send large requests there over TCP). Requests arriving over TCP are
   * answered over their connection.
   */
  listenTcp?: boolean;
}

export interface RequestOptions {
  method: string;
  uri: string;
  /** Headers; a name also in the defaults replaces it, an empty array omits it; arrays give repeated lines. */
  headers?: HeaderInput;
  body?: string | Buffer;
  branch?: string;
  callId?: string;
  fromTag?: string;
  cseq?: number;
  /** Default From URI (when no From header is given): `sip:<user>@<domain>`. */
  from?: string;
  /** Default To URI (when no To header is given): the Request-URI. */
  to?: string;
  /** Overrides Timer F for this request. */
  timeoutMs?: number;
}

export interface ResponseOptions {
  reason?: string;
  headers?: HeaderInput;
  body?: string;
  /** To tag to add when the request's To has none; default a random one. */
  toTag?: string;
}

/** What an auto-answer hook decides for one request: a status, full response options, or null to stay silent. */
export type AutoAnswerDecision = number | (ResponseOptions & { status: number }) | null | undefined;
export type AutoAnswerHook = (req: SipTestMessage) => AutoAnswerDecision;

/** UAC view of a dialog (RFC 3261 §12.1.2), as created by SUBSCRIBE. Mutated by `inDialog` (cseq). */
export interface SipTestDialog {
  callId: string;
  fromTag: string;
  /** Empty until the remote tag is known. */
  toTag: string;
  localUri: string;
  remoteUri: string;
  /** Record-Route of the 2xx, reversed (UAC side). */
  routeSet: string[];
  /** URI of the Contact in the 2xx (or of the first NOTIFY). */
  remoteTarget: string;
  /** Last local CSeq number used. */
  cseq: number;
}

export interface SubscribeOptions {
  uri: string;
  event: string;
  expires?: number;
  accept?: string | string[];
  /** Watcher AoR (From URI); default `sip:<user>@<domain>`. */
  from?: string;
  headers?: HeaderInput;
  body?: string;
  timeoutMs?: number;
}

export interface PublishOptions {
  /** Presentity; Request-URI, From and To. */
  uri: string;
  event: string;
  expires?: number;
  body?: string;
  /** Default `application/pidf+xml` when a body is given. */
  contentType?: string;
  /** SIP-If-Match (RFC 3903 §11.3.2). */
  ifMatch?: string;
  headers?: HeaderInput;
  timeoutMs?: number;
}

export interface RegisterOptions {
  /** Address of record, `sip:user@domain`; the Request-URI is its domain. */
  aor: string;
  /** Contact header value (without `Contact:`), default this client's contact for the AoR's user; `*` allowed. */
  contact?: string;
  expires?: number;
  headers?: HeaderInput;
  timeoutMs?: number;
}

interface PendingTransaction {
  branch: string;
  method: string;
  raw: Buffer;
  resolve: (res: SipTestMessage) => void;
  reject: (err: Error) => void;
  timerE?: NodeJS.Timeout;
  timerF: NodeJS.Timeout;
  interval: number;
}

interface Waiter {
  kind: 'request' | 'response';
  pred: (m: SipTestMessage) => boolean;
  resolve: (m: SipTestMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface AutoAnswerRule {
  status: number;
  hook?: AutoAnswerHook;
  headers?: HeaderInput;
}

export function randomToken(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

export function newBranch(): string {
  return `z9hG4bK${randomToken(8)}`;
}

/** A minimal PIDF document (RFC 3863) with one tuple, for PUBLISH bodies. */
export function pidf(entity: string, basic: 'open' | 'closed' = 'open', note?: string, tupleId = 't1'): string {
  const noteXml = note === undefined ? '' : `<note>${escapeXml(note)}</note>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\r\n` +
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${escapeXml(entity)}">` +
    `<tuple id="${escapeXml(tupleId)}"><status><basic>${basic}</basic></status>${noteXml}</tuple>` +
    `</presence>\r\n`
  );
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function headerLines(headers: HeaderInput | undefined): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    const values = Array.isArray(value) ? value : [String(value)];
    for (const v of values) out.push({ name, value: v });
  }
  return out;
}

/** Merges defaults with user headers: any user header (compact or long, any case) replaces the default. */
function mergeHeaders(defaults: [string, string][], user: HeaderInput | undefined): string {
  const userNames = new Set(Object.keys(user ?? {}).map(canonicalHeaderName));
  let text = '';
  for (const [name, value] of defaults) if (!userNames.has(canonicalHeaderName(name))) text += `${name}: ${value}\r\n`;
  for (const { name, value } of headerLines(user)) {
    if (canonicalHeaderName(name) === 'content-length') continue;
    text += `${name}: ${value}\r\n`;
  }
  return text;
}

function hasHeader(user: HeaderInput | undefined, name: string): boolean {
  return Object.keys(user ?? {}).some((k) => canonicalHeaderName(k) === name);
}

/** The raw user-given value for a header, or undefined. */
function userHeader(user: HeaderInput | undefined, name: string): string | undefined {
  for (const [k, v] of Object.entries(user ?? {})) {
    if (canonicalHeaderName(k) !== name) continue;
    return Array.isArray(v) ? v[0] : String(v);
  }
  return undefined;
}

/**
 * A raw SIP user agent bound to one local socket (UDP) or one connection (TCP, WS).
 *
 * Received messages are logged in `received`. `waitForRequest`/`waitForResponse` consume them: each call
 * returns the oldest logged, not yet consumed message that matches (so a NOTIFY that arrived before the test
 * started waiting is not lost) and skips retransmissions.
 */
export class SipTestClient {
  readonly transport: SipTestTransport;
  readonly viaTransport: ViaTransport;
  /** Host for Via sent-by and Contact: the local address, or a random `*.invalid` name on WS (as sip.js does). */
  readonly contactHost: string;
  readonly received: SipTestMessage[] = [];
  /** Raw messages sent, in order. */
  readonly sent: string[] = [];
  /** Data that could not be parsed as SIP (e.g. keep-alive CRLFs are not logged here). */
  readonly unparsed: Buffer[] = [];
  /** Count of CRLF keep-alive sequences received on a stream (RFC 5626 §4.4.1 pongs). */
  keepAlivesReceived = 0;
  user: string;
  domain: string;

  private readonly udp?: dgram.Socket;
  private readonly tcp?: net.Socket;
  private readonly tcpServer?: net.Server;
  /** Connections accepted by `tcpServer`, and which one each request came on (answers go back on it). */
  private readonly accepted = new Set<net.Socket>();
  private readonly arrivedOn = new WeakMap<SipTestMessage, net.Socket>();
  private readonly ws?: WebSocket;
  private readonly pending = new Map<string, PendingTransaction>();
  private readonly waiters = new Set<Waiter>();
  private readonly consumed = new WeakSet<SipTestMessage>();
  private readonly answered = new Map<string, string>();
  private readonly seenRequests = new Set<string>();
  private readonly autoAnswers = new Map<string, AutoAnswerRule>();
  private readonly listeners = new Set<(m: SipTestMessage) => void>();
  private readonly registrations = new Map<string, { callId: string; cseq: number; fromTag: string }>();
  private readonly closeWaiters = new Set<() => void>();
  private readonly tcpStream = { buffer: Buffer.alloc(0) };
  private cseqCounter = 1;
  private isClosed = false;
  private peerClosed = false;
  private readonly t1: number;
  private readonly t2: number;
  private readonly timerF: number;
  private readonly retransmit: boolean;
  private readonly maxFrameBytes: number;

  private constructor(
    readonly options: SipTestClientOptions,
    sockets: { udp?: dgram.Socket; tcp?: net.Socket; ws?: WebSocket; tcpServer?: net.Server },
    contactHost: string,
  ) {
    this.transport = options.transport;
    this.viaTransport = options.transport.toUpperCase() as ViaTransport;
    this.udp = sockets.udp;
    this.tcp = sockets.tcp;
    this.ws = sockets.ws;
    this.tcpServer = sockets.tcpServer;
    this.contactHost = contactHost;
    this.t1 = options.t1 ?? 500;
    this.t2 = options.t2 ?? 4000;
    this.timerF = options.timerF ?? 64 * this.t1;
    this.retransmit = options.retransmit ?? true;
    this.maxFrameBytes = options.maxFrameBytes ?? 1024 * 1024;
    this.user = options.user ?? 'tester';
    this.domain = options.domain ?? 'example.com';
    this.attach();
  }

  /** Opens a socket (UDP), a connection (TCP) or a WebSocket with subprotocol `sip` (WS). */
  static async open(options: SipTestClientOptions): Promise<SipTestClient> {
    const localHost = options.localHost ?? '127.0.0.1';
    switch (options.transport) {
      case 'udp': {
        for (let attempt = 0; ; attempt++) {
          const udp = dgram.createSocket(net.isIPv6(localHost) ? 'udp6' : 'udp4');
          await new Promise<void>((resolve, reject) => {
            udp.once('error', reject);
            udp.bind(0, localHost, () => {
              udp.off('error', reject);
              resolve();
            });
          });
          if (!options.listenTcp) return new SipTestClient(options, { udp }, localHost);
          const tcpServer = net.createServer();
          const listening = await new Promise<boolean>((resolve) => {
            tcpServer.once('error', () => {
              resolve(false);
            });
            tcpServer.listen(udp.address().port, localHost, () => {
              resolve(true);
            });
          });
          if (listening) return new SipTestClient(options, { udp, tcpServer }, localHost);
          udp.close();
          if (attempt >= 20) throw new Error('no local port free on both UDP and TCP');
        }
      }
      case 'tcp': {
        const tcp = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: options.host, port: options.port, localAddress: localHost });
          s.once('error', reject);
          s.once('connect', () => {
            s.off('error', reject);
            resolve(s);
          });
        });
        tcp.setNoDelay(true);
        return new SipTestClient(options, { tcp }, localHost);
      }
      case 'tls': {
        const conn = await new Promise<tls.TLSSocket>((resolve, reject) => {
          const s = tls.connect({
            host: options.host,
            port: options.port,
            servername: 'localhost',
            ...(options.tlsCa !== undefined ? { ca: options.tlsCa } : { rejectUnauthorized: false }),
          });
          s.once('error', reject);
          s.once('secureConnect', () => {
            s.off('error', reject);
            resolve(s);
          });
        });
        conn.setNoDelay(true);
        return new SipTestClient(options, { tcp: conn }, localHost);
      }
      case 'ws': {
        const url = `ws://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}${options.path ?? '/sip'}`;
        const ws = await new Promise<WebSocket>((resolve, reject) => {
          const s = new WebSocket(url, 'sip', { localAddress: localHost });
          s.once('error', reject);
          s.once('unexpected-response', (_req, res) => {
            reject(new Error(`WebSocket upgrade to ${url} refused: HTTP ${res.statusCode ?? '?'}`));
          });
          s.once('open', () => {
            s.off('error', reject);
            resolve(s);
          });
        });
        if (ws.protocol !== 'sip') {
          ws.terminate();
          throw new Error(`server did not select subprotocol "sip" (got ${JSON.stringify(ws.protocol)})`);
        }
        return new SipTestClient(options, { ws }, `${randomToken(6)}.invalid`);
      }
    }
  }

  get localPort(): number {
    if (this.udp) return this.udp.address().port;
    if (this.tcp) return this.tcp.localPort ?? 0;
    return this.wsSocket()?.localPort ?? 0;
  }

  get localAddress(): string {
    if (this.udp) return this.udp.address().address;
    if (this.tcp) return this.tcp.localAddress ?? '';
    return this.wsSocket()?.localAddress ?? '';
  }

  /** Via sent-by: `host:port` (UDP, TCP) or the `.invalid` host (WS). */
  get sentBy(): string {
    return this.transport === 'ws' ? this.contactHost : `${this.contactHost}:${this.localPort}`;
  }

  /** Default Contact URI for a user of this client. */
  contactUri(user = this.user): string {
    switch (this.transport) {
      case 'udp':
        return `sip:${user}@${this.contactHost}:${this.localPort}`;
      case 'tcp':
        return `sip:${user}@${this.contactHost}:${this.localPort};transport=tcp`;
      case 'tls':
        return `sips:${user}@${this.contactHost}:${this.localPort};transport=tls`;
      case 'ws':
        return `sip:${user}@${this.contactHost};transport=ws`;
    }
  }

  /** Values handy for fixtures: transport, sentBy, localAddress, localPort, contactHost, contact, branch, callId, tag. */
  fixtureVars(extra: Record<string, string> = {}): Record<string, string> {
    return {
      transport: this.viaTransport,
      viaTransport: this.viaTransport,
      sentBy: this.sentBy,
      localAddress: this.localAddress,
      localPort: String(this.localPort),
      contactHost: this.contactHost,
      contact: `<${this.contactUri()}>`,
      branch: newBranch(),
      callId: `${randomToken(10)}@test`,
      tag: randomToken(6),
      ...extra,
    };
  }

  get closed(): boolean {
    return this.isClosed || this.peerClosed;
  }

  /** Sends raw bytes: one datagram (UDP), bytes on the stream (TCP), one text (string) or binary (Buffer) frame (WS). */
  send(raw: string | Buffer): void {
    if (this.isClosed) throw new Error('client closed');
    this.sent.push(typeof raw === 'string' ? raw : raw.toString('utf8'));
    if (this.udp) this.udp.send(typeof raw === 'string' ? Buffer.from(raw) : raw, this.options.port, this.options.host);
    else if (this.tcp) this.tcp.write(raw);
    else this.ws!.send(raw);
  }

  /** Sends a buffer as is (garbage, truncated datagrams); not logged in `sent`. */
  sendRaw(data: Buffer | string): void {
    if (this.isClosed) throw new Error('client closed');
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.udp) this.udp.send(buf, this.options.port, this.options.host);
    else if (this.tcp) this.tcp.write(buf);
    else this.ws!.send(buf);
  }

  /** Writes chunks one after another with a pause between them (TCP framing tests; on UDP each is a datagram). */
  async sendRawChunks(chunks: (Buffer | string)[], delayMs = 10): Promise<void> {
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0 && delayMs > 0) await sleep(delayMs);
      this.sendRaw(chunks[i]);
    }
  }

  /** Builds a request with default Via/Max-Forwards/From/To/Call-ID/CSeq/Contact/Content-Length. */
  buildRequest(opts: RequestOptions): { raw: string; branch: string; callId: string; fromTag: string; cseq: number } {
    const branch = opts.branch ?? newBranch();
    const callId = opts.callId ?? `${randomToken(10)}@${this.contactHost}`;
    const fromTag = opts.fromTag ?? randomToken(6);
    const cseq = opts.cseq ?? this.cseqCounter++;
    const body = opts.body ?? '';
    const from = opts.from ?? `sip:${this.user}@${this.domain}`;
    const defaults: [string, string][] = [
      ['Via', `SIP/2.0/${this.viaTransport} ${this.sentBy};branch=${branch};rport`],
      ['Max-Forwards', '70'],
      ['From', `<${from}>;tag=${fromTag}`],
      ['To', `<${opts.to ?? opts.uri}>`],
      ['Call-ID', callId],
      ['CSeq', `${cseq} ${opts.method}`],
      ['Contact', `<${this.contactUri()}>`],
      ['User-Agent', 'presence-hub-test-client'],
    ];
    const length = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
    const head =
      `${opts.method} ${opts.uri} SIP/2.0\r\n` +
      mergeHeaders(defaults, opts.headers) +
      `Content-Length: ${length}\r\n\r\n`;
    const raw = typeof body === 'string' ? head + body : head + body.toString('utf8');
    const effectiveBranch = headerParam(splitHeaderList(userHeader(opts.headers, 'via') ?? '')[0], 'branch') ?? branch;
    return { raw, branch: effectiveBranch, callId: userHeader(opts.headers, 'call-id') ?? callId, fromTag, cseq };
  }

  /**
   * Sends a request as a non-INVITE client transaction and resolves with the final response (1xx skipped).
   * On UDP it retransmits per Timer E (T1 doubling up to T2, T2 after a 1xx), and rejects on Timer F.
   */
  request(opts: RequestOptions): Promise<SipTestMessage> {
    const built = this.buildRequest(opts);
    const buf = Buffer.from(built.raw, 'utf8');
    const key = `${built.branch}|${opts.method.toUpperCase()}`;
    return new Promise<SipTestMessage>((resolve, reject) => {
      const tx: PendingTransaction = {
        branch: built.branch,
        method: opts.method.toUpperCase(),
        raw: buf,
        resolve,
        reject,
        interval: this.t1,
        timerF: setTimeout(() => {
          this.clearTx(key);
          reject(new Error(`Timer F: no final response to ${opts.method} ${opts.uri} (branch ${built.branch})`));
        }, opts.timeoutMs ?? this.timerF),
      };
      this.pending.set(key, tx);
      if (this.udp && this.retransmit) this.armTimerE(key, tx);
      try {
        this.send(buf);
      } catch (err) {
        this.clearTx(key);
        reject(err);
      }
    });
  }

  /** Waits for a request from the server (oldest unconsumed match first; retransmissions skipped). */
  waitForRequest(pred: (m: SipTestMessage) => boolean = () => true, timeoutMs = 5000): Promise<SipTestMessage> {
    return this.waitFor('request', pred, timeoutMs);
  }

  /** Waits for a response (oldest unconsumed match first). Responses consumed by `request()` are not offered. */
  waitForResponse(pred: (m: SipTestMessage) => boolean = () => true, timeoutMs = 5000): Promise<SipTestMessage> {
    return this.waitFor('response', pred, timeoutMs);
  }

  /** Resolves when the peer closes the connection (TCP, WS); rejects after the timeout. */
  waitForClose(timeoutMs = 5000): Promise<void> {
    if (this.peerClosed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.closeWaiters.delete(done);
        reject(new Error(`connection still open after ${timeoutMs} ms`));
      }, timeoutMs);
      this.closeWaiters.add(done);
    });
  }

  /** Calls the listener for every parsed message received (after logging). Returns a function that removes it. */
  onMessage(listener: (m: SipTestMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Answers every request of `method` with `status`. The hook may decide per request: return a status or
   * response options to answer differently, `null` to not answer at all, `undefined` for the default.
   */
  autoAnswer(method: string, status: number, hook?: AutoAnswerHook, headers?: HeaderInput): void {
    this.autoAnswers.set(method.toUpperCase(), { status, hook, headers });
  }

  stopAutoAnswer(method: string): void {
    this.autoAnswers.delete(method.toUpperCase());
  }

  /** Builds a response to a request received from the server (Via, From, To, Call-ID, CSeq copied; RFC 3261 §8.2.6). */
  buildResponse(req: SipTestMessage, status: number, options: ResponseOptions = {}): string {
    let text = `SIP/2.0 ${status} ${options.reason ?? defaultReason(status)}\r\n`;
    for (const via of req.headers.get('via') ?? []) text += `Via: ${via}\r\n`;
    text += `From: ${req.header('from') ?? ''}\r\n`;
    let to = req.header('to') ?? '';
    if (status > 100 && headerParam(to, 'tag') === undefined) to += `;tag=${options.toTag ?? randomToken(6)}`;
    text += `To: ${to}\r\n`;
    text += `Call-ID: ${req.callId ?? ''}\r\n`;
    text += `CSeq: ${req.header('cseq') ?? ''}\r\n`;
    for (const { name, value } of headerLines(options.headers)) {
      if (canonicalHeaderName(name) !== 'content-length') text += `${name}: ${value}\r\n`;
    }
    const body = options.body ?? '';
    return `${text}Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`;
  }

  /** Sends a response to a request from the server; a retransmission of that request will get it again. */
  respond(req: SipTestMessage, status: number, options: ResponseOptions = {}): string {
    const raw = this.buildResponse(req, status, options);
    if (status >= 200) this.answered.set(requestKey(req), raw);
    this.sendBack(req, raw);
    return raw;
  }

  /** SUBSCRIBE creating a dialog (RFC 6665 §4.1.2). The NOTIFY is left in `received` for `waitForRequest`. */
  async subscribe(opts: SubscribeOptions): Promise<{ response: SipTestMessage; dialog: SipTestDialog }> {
    const fromTag = randomToken(6);
    const callId = `${randomToken(10)}@${this.contactHost}`;
    const cseq = 1;
    const from = opts.from ?? `sip:${this.user}@${this.domain}`;
    const headers: HeaderInput = { Event: opts.event };
    if (opts.expires !== undefined) headers.Expires = opts.expires;
    if (opts.accept !== undefined) headers.Accept = opts.accept;
    Object.assign(headers, opts.headers ?? {});
    const response = await this.request({
      method: 'SUBSCRIBE',
      uri: opts.uri,
      from,
      headers,
      body: opts.body,
      callId,
      fromTag,
      cseq,
      timeoutMs: opts.timeoutMs,
    });
    const dialog: SipTestDialog = {
      callId,
      fromTag,
      toTag: response.toTag ?? '',
      localUri: from,
      remoteUri: uriOf(userHeader(opts.headers, 'to') ?? opts.uri),
      routeSet: response.headerValues('record-route').reverse(),
      remoteTarget: response.header('contact') !== undefined ? uriOf(response.headerValues('contact')[0]) : opts.uri,
      cseq,
    };
    if (!response.status || response.status >= 300 || dialog.toTag === '') {
      // The dialog may still have been created by a NOTIFY that arrived first (RFC 6665 §4.1.2.4).
      const notify = this.received.find((m) => m.method === 'NOTIFY' && m.callId === callId && m.fromTag);
      if (notify && dialog.toTag === '') {
        dialog.toTag = notify.fromTag ?? '';
        if (notify.header('contact')) dialog.remoteTarget = uriOf(notify.headerValues('contact')[0]);
      }
    }
    return { response, dialog };
  }

  /** Sends a request inside a dialog (RFC 3261 §12.2.1.1: CSeq+1, Request-URI and Route from the route set). */
  inDialog(
    dialog: SipTestDialog,
    method: string,
    headers: HeaderInput = {},
    body?: string,
    timeoutMs?: number,
  ): Promise<SipTestMessage> {
    dialog.cseq += 1;
    let uri = dialog.remoteTarget;
    let routes = [...dialog.routeSet];
    if (routes.length > 0 && !/;\s*lr\b/i.test(uriOf(routes[0]))) {
      // Strict routing: the first route becomes the Request-URI, the remote target the last Route.
      uri = uriOf(routes[0]);
      routes = [...routes.slice(1), `<${dialog.remoteTarget}>`];
    }
    const merged: HeaderInput = {
      From: `<${dialog.localUri}>;tag=${dialog.fromTag}`,
      To: `<${dialog.remoteUri}>${dialog.toTag ? `;tag=${dialog.toTag}` : ''}`,
    };
    if (routes.length > 0) merged.Route = routes;
    Object.assign(merged, headers);
    return this.request({ method, uri, headers: merged, body, callId: dialog.callId, cseq: dialog.cseq, timeoutMs });
  }

  /** PUBLISH (RFC 3903 §4): the presentity publishes its own state. */
  publish(opts: PublishOptions): Promise<SipTestMessage> {
    const headers: HeaderInput = { Event: opts.event, Contact: [] };
    if (opts.expires !== undefined) headers.Expires = opts.expires;
    if (opts.ifMatch !== undefined) headers['SIP-If-Match'] = opts.ifMatch;
    if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/pidf+xml';
    Object.assign(headers, opts.headers ?? {});
    return this.request({
      method: 'PUBLISH',
      uri: opts.uri,
      from: opts.uri,
      headers,
      body: opts.body,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** REGISTER (RFC 3261 §10.2): same Call-ID and increasing CSeq for repeated registrations of one AoR. */
  register(opts: RegisterOptions): Promise<SipTestMessage> {
    const aor = uriOf(opts.aor);
    const at = aor.indexOf('@');
    const colon = aor.indexOf(':');
    const scheme = aor.slice(0, colon);
    const user = at >= 0 ? aor.slice(colon + 1, at) : this.user;
    const domain = at >= 0 ? aor.slice(at + 1) : aor.slice(colon + 1);
    let reg = this.registrations.get(aor);
    if (!reg) {
      reg = { callId: `${randomToken(10)}@${this.contactHost}`, cseq: 0, fromTag: randomToken(6) };
      this.registrations.set(aor, reg);
    }
    reg.cseq += 1;
    const headers: HeaderInput = {};
    if (!hasHeader(opts.headers, 'contact')) {
      const contact = opts.contact ?? `<${this.contactUri(user)}>`;
      headers.Contact = contact;
    }
    if (opts.expires !== undefined) headers.Expires = opts.expires;
    Object.assign(headers, opts.headers ?? {});
    return this.request({
      method: 'REGISTER',
      uri: `${scheme}:${domain}`,
      from: aor,
      to: aor,
      headers,
      callId: reg.callId,
      fromTag: reg.fromTag,
      cseq: reg.cseq,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Closes the socket or connection; pending requests and waiters are rejected. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const [key, tx] of this.pending) {
      this.clearTx(key);
      tx.reject(new Error('client closed'));
    }
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('client closed'));
    }
    this.waiters.clear();
    for (const c of this.accepted) c.destroy();
    this.tcpServer?.close();
    await new Promise<void>((resolve) => {
      if (this.udp)
        this.udp.close(() => {
          resolve();
        });
      else if (this.tcp) {
        if (this.tcp.destroyed) resolve();
        else {
          this.tcp.once('close', () => {
            resolve();
          });
          this.tcp.end();
          setTimeout(() => {
            this.tcp?.destroy();
          }, 200).unref();
        }
      } else {
        const ws = this.ws!;
        if (ws.readyState === WebSocket.CLOSED) resolve();
        else {
          ws.once('close', () => {
            resolve();
          });
          ws.close();
          setTimeout(() => {
            ws.terminate();
          }, 200).unref();
        }
      }
    });
  }

  // -------------------------------------------------------------------------------------------------------------

  private wsSocket(): net.Socket | undefined {
    return (this.ws as unknown as { _socket?: net.Socket } | undefined)?._socket;
  }

  /** Sends an answer to a request the way it came: over its TCP connection, or over the client's socket. */
  private sendBack(req: SipTestMessage, raw: string): void {
    const connection = this.arrivedOn.get(req);
    if (connection === undefined) {
      this.send(raw);
      return;
    }
    this.sent.push(raw);
    connection.write(raw);
  }

  private attach(): void {
    this.tcpServer?.on('connection', (socket) => {
      this.accepted.add(socket);
      const stream = { buffer: Buffer.alloc(0) };
      socket.on('data', (chunk) => {
        this.onStreamData(stream, chunk, (data) => {
          this.onData(data, socket);
        });
      });
      socket.on('close', () => this.accepted.delete(socket));
      socket.on('error', () => {
        /* reported through 'close' */
      });
    });
    if (this.udp) {
      this.udp.on('message', (data) => {
        this.onData(data);
      });
    } else if (this.tcp) {
      const tcp = this.tcp;
      tcp.on('data', (chunk) => {
        this.onStreamData(this.tcpStream, chunk, (data) => {
          this.onData(data);
        });
      });
      tcp.on('close', () => {
        this.onPeerClose();
      });
      tcp.on('error', () => {
        /* reported through 'close' */
      });
    } else {
      const ws = this.ws!;
      ws.on('message', (data: WebSocket.RawData) => {
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        this.onData(buf);
      });
      ws.on('close', () => {
        this.onPeerClose();
      });
      ws.on('error', () => {
        /* reported through 'close' */
      });
    }
  }

  private onPeerClose(): void {
    this.peerClosed = true;
    for (const done of this.closeWaiters) done();
    this.closeWaiters.clear();
  }

  /** Content-Length framing on a stream (RFC 3261 §18.3), across split and coalesced segments. */
  private onStreamData(stream: { buffer: Buffer }, chunk: Buffer, deliver: (message: Buffer) => void): void {
    stream.buffer = stream.buffer.length === 0 ? chunk : Buffer.concat([stream.buffer, chunk]);
    for (;;) {
      let skip = 0;
      while (skip < stream.buffer.length && (stream.buffer[skip] === 0x0d || stream.buffer[skip] === 0x0a)) skip++;
      if (skip > 0) {
        this.keepAlivesReceived += Math.floor(skip / 4) || (skip >= 2 ? 1 : 0);
        stream.buffer = stream.buffer.subarray(skip);
      }
      if (stream.buffer.length === 0) return;
      const end = stream.buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (stream.buffer.length > this.maxFrameBytes) {
          this.unparsed.push(stream.buffer);
          stream.buffer = Buffer.alloc(0);
        }
        return;
      }
      const head = stream.buffer.subarray(0, end).toString('utf8');
      const m = /(?:^|\r\n)(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      const total = end + 4 + length;
      if (stream.buffer.length < total) return;
      const message = stream.buffer.subarray(0, total);
      stream.buffer = stream.buffer.subarray(total);
      deliver(Buffer.from(message));
    }
  }

  /** A message received on the client's own socket, or (with `connection`) on a connection to its TCP listener. */
  private onData(data: Buffer, connection?: net.Socket): void {
    let msg: SipTestMessage;
    try {
      msg = parse(data);
    } catch {
      if (data.toString('latin1').trim() !== '') this.unparsed.push(data);
      else this.keepAlivesReceived++;
      return;
    }
    msg.receivedAt = Date.now();
    msg.receivedOver = connection ? 'tcp' : this.transport;
    if (connection) this.arrivedOn.set(msg, connection);
    if (msg.kind === 'request') {
      const key = requestKey(msg);
      msg.retransmission = this.seenRequests.has(key);
      this.seenRequests.add(key);
    }
    this.received.push(msg);
    for (const l of this.listeners) l(msg);
    if (msg.kind === 'response') this.onResponse(msg);
    else this.onRequest(msg);
    this.offerToWaiters(msg);
  }

  private onResponse(res: SipTestMessage): void {
    const key = `${res.branch ?? ''}|${(res.cseq?.method ?? '').toUpperCase()}`;
    const tx = this.pending.get(key);
    if (!tx) return;
    if ((res.status ?? 0) < 200) {
      // RFC 3261 §17.1.2.2: in Proceeding, retransmit every T2.
      tx.interval = this.t2;
      return;
    }
    this.consumed.add(res);
    this.clearTx(key);
    tx.resolve(res);
  }

  private onRequest(req: SipTestMessage): void {
    const previous = this.answered.get(requestKey(req));
    if (previous !== undefined) {
      this.sendBack(req, previous);
      return;
    }
    if (req.retransmission) return;
    const rule = this.autoAnswers.get((req.method ?? '').toUpperCase());
    if (!rule) return;
    const decision = rule.hook ? rule.hook(req) : undefined;
    if (decision === null) return;
    if (decision === undefined) this.respond(req, rule.status, { headers: rule.headers });
    else if (typeof decision === 'number') this.respond(req, decision, { headers: rule.headers });
    else this.respond(req, decision.status, decision);
  }

  private waitFor(
    kind: 'request' | 'response',
    pred: (m: SipTestMessage) => boolean,
    timeoutMs: number,
  ): Promise<SipTestMessage> {
    const found = this.received.find(
      (m) => m.kind === kind && !m.retransmission && !this.consumed.has(m) && safePred(pred, m),
    );
    if (found) {
      this.consumed.add(found);
      return Promise.resolve(found);
    }
    if (this.isClosed) return Promise.reject(new Error('client closed'));
    return new Promise<SipTestMessage>((resolve, reject) => {
      const waiter: Waiter = {
        kind,
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no matching ${kind} within ${timeoutMs} ms (received ${this.received.length} messages)`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private offerToWaiters(msg: SipTestMessage): void {
    if (msg.retransmission || this.consumed.has(msg)) return;
    for (const w of this.waiters) {
      if (w.kind !== msg.kind || !safePred(w.pred, msg)) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      this.consumed.add(msg);
      w.resolve(msg);
      return;
    }
  }

  /** Timer E (RFC 3261 §17.1.2.2): retransmit after T1, doubling up to T2. */
  private armTimerE(key: string, tx: PendingTransaction): void {
    tx.timerE = setTimeout(() => {
      if (!this.pending.has(key) || this.isClosed) return;
      this.sendRaw(tx.raw);
      tx.interval = Math.min(tx.interval * 2, this.t2);
      this.armTimerE(key, tx);
    }, tx.interval);
  }

  private clearTx(key: string): void {
    const tx = this.pending.get(key);
    if (!tx) return;
    clearTimeout(tx.timerF);
    if (tx.timerE) clearTimeout(tx.timerE);
    this.pending.delete(key);
  }
}

function requestKey(req: SipTestMessage): string {
  return `${req.branch ?? ''}|${req.method ?? ''}|${req.cseq?.seq ?? ''}|${req.callId ?? ''}`;
}

function safePred(pred: (m: SipTestMessage) => boolean, m: SipTestMessage): boolean {
  try {
    return pred(m);
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  489: 'Bad Event',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

function defaultReason(status: number): string {
  return REASONS[status] ?? 'Unknown';
}
