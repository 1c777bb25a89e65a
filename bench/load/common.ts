/**
 * Shared pieces of the load generators in bench/load: argument parsing, loopback guard, cheap header
 * extraction with indexOf (no full parse on the hot path), answers to the server's requests, a UDP
 * retransmission table (RFC 3261 §17.1.2.2 Timer E/F) and latency percentiles.
 *
 * No SIP library and nothing from src/: the load generators must measure the server, not share its code.
 */
import * as dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export type ArgValue = string | number | boolean;

/**
 * Parses `--name value`, `--name=value` and bare `--flag` against defaults; the default's type decides the
 * parsed type. Unknown names are an error, so a typo does not silently run the default.
 */
export function parseArgs<T extends Record<string, ArgValue>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, ArgValue> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (!(name in defaults)) throw new Error(`unknown option --${name}; known: ${Object.keys(defaults).join(', ')}`);
    const def = defaults[name];
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (typeof def === 'boolean' && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) raw = 'true';
    else raw = argv[++i] ?? '';
    if (typeof def === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`--${name} needs a number, got ${raw}`);
      out[name] = n;
    } else if (typeof def === 'boolean') out[name] = raw === 'true' || raw === '1' || raw === 'yes';
    else out[name] = raw;
  }
  return out as T;
}

/** Load is only ever sent to this machine. */
export function assertLoopback(host: string): void {
  if (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return;
  throw new Error(`refusing to send load to ${host}: loopback addresses only (127.0.0.0/8, ::1, localhost)`);
}

export function runId(): string {
  return randomBytes(4).toString('hex');
}

export const now = (): number => performance.now();

/** End of the header block (index of the blank line's CRLF CRLF), or the message length. */
export function headerEnd(msg: string): number {
  const end = msg.indexOf('\r\n\r\n');
  return end < 0 ? msg.length : end;
}

function scan(msg: string, needle: string, limit: number): string | undefined {
  const at = msg.indexOf(needle);
  if (at < 0 || at >= limit) return undefined;
  const start = at + needle.length;
  let eol = msg.indexOf('\r\n', start);
  if (eol < 0) eol = msg.length;
  return msg.slice(start, eol).trim();
}

/**
 * Value of the first header `name` (long form as usually spelled, e.g. `Call-ID`) or its compact form.
 * Fast path: exact spelling with indexOf; slow path: case-insensitive regexp over the header block.
 */
export function headerValue(msg: string, name: string, compact?: string): string | undefined {
  const limit = headerEnd(msg);
  const fast =
    scan(msg, `\r\n${name}:`, limit) ?? (compact === undefined ? undefined : scan(msg, `\r\n${compact}:`, limit));
  if (fast !== undefined) return fast;
  const names = compact === undefined ? name : `${name}|${compact}`;
  const re = new RegExp(`\\r\\n(?:${names.replace(/-/g, '\\-')})[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'i');
  const m = re.exec(msg.slice(0, limit));
  return m ? m[1].trim() : undefined;
}

export const callIdOf = (msg: string): string | undefined => headerValue(msg, 'Call-ID', 'i');

/** Status code of a response (`SIP/2.0 200 OK`), or 0 for a request. */
export function statusOf(msg: string): number {
  if (!msg.startsWith('SIP/2.0 ')) return 0;
  return Number(msg.slice(8, 11)) || 0;
}

/** Method of a request (`NOTIFY sip:... SIP/2.0`). */
export function methodOf(msg: string): string {
  const sp = msg.indexOf(' ');
  return sp < 0 ? '' : msg.slice(0, sp);
}

/** `;tag=` of a From/To value. */
export function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const gt = value.lastIndexOf('>');
  const m = /;\s*tag\s*=\s*([^;,\s]+)/i.exec(gt >= 0 ? value.slice(gt) : value);
  return m ? m[1] : undefined;
}

/** The URI inside `<...>`, or up to the first `;`. */
export function uriOf(value: string): string {
  const lt = value.indexOf('<');
  if (lt >= 0) return value.slice(lt + 1, value.indexOf('>', lt));
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim();
}

const COPIED = new Set(['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq']);

/**
 * A response to a request from the server: Via (all, in order), From, To, Call-ID and CSeq copied line by
 * line (RFC 3261 §8.2.6), folded continuation lines kept, no body.
 */
export function responseFor(req: string, status = 200, reason = 'OK'): string {
  const limit = headerEnd(req);
  let out = `SIP/2.0 ${status} ${reason}\r\n`;
  let pos = req.indexOf('\r\n') + 2;
  let copying = false;
  while (pos > 1 && pos < limit + 2) {
    let eol = req.indexOf('\r\n', pos);
    if (eol < 0 || eol > limit) eol = limit;
    const first = req.charCodeAt(pos);
    if (first === 32 || first === 9) {
      if (copying) out += `${req.slice(pos, eol)}\r\n`;
    } else {
      const colon = req.indexOf(':', pos);
      copying = colon > 0 && colon < eol && COPIED.has(req.slice(pos, colon).trim().toLowerCase());
      if (copying) out += `${req.slice(pos, eol)}\r\n`;
    }
    pos = eol + 2;
  }
  return `${out}Content-Length: 0\r\n\r\n`;
}

interface UdpTx {
  sock: dgram.Socket;
  data: Buffer;
  host: string;
  port: number;
  next: number;
  interval: number;
  deadline: number;
}

/**
 * Outstanding non-INVITE client transactions over UDP: retransmits on Timer E (T1 doubling to T2, T2 once a
 * provisional arrived) and gives up on Timer F (64*T1), calling `onTimeout`. One 20 ms ticker for all.
 */
export class UdpRetransmitter {
  retransmissions = 0;
  private readonly out = new Map<string, UdpTx>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly onTimeout: (key: string) => void,
    private readonly t1 = 500,
    private readonly t2 = 4000,
    private readonly timerF = 64 * t1,
  ) {
    this.timer = setInterval(() => {
      this.tick();
    }, 20);
  }

  get size(): number {
    return this.out.size;
  }

  send(key: string, sock: dgram.Socket, data: Buffer, host: string, port: number): void {
    const t = now();
    this.out.set(key, { sock, data, host, port, next: t + this.t1, interval: this.t1, deadline: t + this.timerF });
    sock.send(data, port, host);
  }

  /** A 1xx arrived: from now on retransmit every T2. */
  provisional(key: string): void {
    const tx = this.out.get(key);
    if (tx) {
      tx.interval = this.t2;
      tx.next = now() + this.t2;
    }
  }

  /** A final response arrived. Returns false when the key was not outstanding (duplicate or late). */
  final(key: string): boolean {
    return this.out.delete(key);
  }

  stop(): void {
    clearInterval(this.timer);
    this.out.clear();
  }

  private tick(): void {
    const t = now();
    for (const [key, tx] of this.out) {
      if (t >= tx.deadline) {
        this.out.delete(key);
        this.onTimeout(key);
      } else if (t >= tx.next) {
        tx.sock.send(tx.data, tx.port, tx.host);
        this.retransmissions++;
        tx.interval = Math.min(tx.interval * 2, this.t2);
        tx.next = t + tx.interval;
      }
    }
  }
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Percentiles (nearest rank) of latencies in ms, rounded to µs. */
export function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]),
    mean: round(sum / sorted.length),
  };
}

/**
 * How many requests an open-loop load at `rate`/s may have started by now, its first at `firstSend` (0: none
 * yet, so one may start); Infinity without a rate.
 */
export function startsAllowed(rate: number, firstSend: number): number {
  if (rate <= 0) return Infinity;
  return firstSend > 0 ? Math.floor(((now() - firstSend) * rate) / 1000) + 1 : 1;
}

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? Math.round((count * 1000 * 10) / ms) / 10 : 0;
}

/** Enlarges socket buffers where the kernel allows (net.core.rmem_max caps it silently). */
export function bigBuffers(sock: dgram.Socket, bytes = 8 * 1024 * 1024): void {
  try {
    sock.setRecvBufferSize(bytes);
    sock.setSendBufferSize(bytes);
  } catch {
    /* kept at the system default */
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Binds `n` UDP sockets on `localHost` (ephemeral ports, big buffers) and hands every datagram to
 * `onMessage` with the index of the socket that received it.
 */
export async function openUdpSockets(
  n: number,
  localHost: string,
  onMessage: (data: Buffer, sockIndex: number) => void,
): Promise<{ sockets: dgram.Socket[]; ports: number[] }> {
  const sockets: dgram.Socket[] = [];
  const ports: number[] = [];
  for (let s = 0; s < Math.max(1, n); s++) {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, localHost, resolve));
    bigBuffers(sock);
    const index = s;
    sock.on('message', (data) => {
      onMessage(data, index);
    });
    sockets.push(sock);
    ports.push(sock.address().port);
  }
  return { sockets, ports };
}

export interface WindowedLoadOptions {
  /** Requests to start at most. */
  readonly count: number;
  /** Outstanding requests at most. */
  readonly window: number;
  /** Seconds after which no new request is started. */
  readonly duration: number;
  /** Seconds to wait for outstanding requests once starting stopped. */
  readonly drain: number;
  /** Requests started per second (open loop, still capped by the window); 0 = as fast as the window allows. */
  readonly rate?: number;
}

/**
 * The load loop of the rate benchmarks: starts request i through `start(i)` while fewer than `window` are
 * outstanding (and, with `rate`, no faster than that), until `count` were started or `duration` passed; each
 * request ends with one `settle()`. `run()` resolves when all settled or `drain` seconds after the last start.
 */
export class WindowedLoad {
  started = 0;
  outstanding = 0;
  firstSend = 0;
  lastDone = 0;
  private stopStarting = false;
  private finish: () => void = () => undefined;

  constructor(
    private readonly o: WindowedLoadOptions,
    private readonly start: (i: number) => void,
  ) {}

  /** From the first request started to the last one settled (or now), ms. */
  get elapsedMs(): number {
    return (this.lastDone || now()) - this.firstSend;
  }

  settle(): void {
    this.outstanding--;
    this.lastDone = now();
    this.pump();
  }

  async run(): Promise<void> {
    const done = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
    const stopTimer = setTimeout(() => {
      this.stopStarting = true;
      if (this.outstanding === 0) this.finish();
    }, this.o.duration * 1000);
    const rate = this.o.rate ?? 0;
    const ticker =
      rate > 0
        ? setInterval(() => {
            this.pump();
          }, 2)
        : undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (this.stopStarting || this.started >= this.o.count) {
          clearInterval(check);
          if (ticker) clearInterval(ticker);
          drainTimer = setTimeout(resolve, this.o.drain * 1000);
        }
      }, 50);
    });
    this.pump();
    await Promise.race([done, drained]);
    clearTimeout(stopTimer);
    if (ticker) clearInterval(ticker);
    if (drainTimer) clearTimeout(drainTimer);
  }

  private pump(): void {
    const allowed = startsAllowed(this.o.rate ?? 0, this.firstSend);
    while (
      !this.stopStarting &&
      this.outstanding < this.o.window &&
      this.started < this.o.count &&
      this.started < allowed
    ) {
      const i = this.started++;
      if (this.firstSend === 0) this.firstSend = now();
      this.outstanding++;
      this.start(i);
    }
    if (this.outstanding === 0 && (this.started >= this.o.count || this.stopStarting)) this.finish();
  }
}
