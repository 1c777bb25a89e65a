/**
 * Long-lived SIP presence subscriptions held by a load client (bench/load/memory.ts measures what they cost,
 * bench/load/held-state.ts measures the server while it holds them).
 */
import type * as dgram from 'node:dgram';
import {
  UdpRetransmitter,
  assertLoopback,
  callIdOf,
  headerValue,
  methodOf,
  now,
  openUdpSockets,
  perSecond,
  responseFor,
  runId,
  statusOf,
} from './common';

interface Sub {
  sock: number;
  ok: boolean;
  notified: boolean;
  done: boolean;
}

export interface PhaseResult {
  count: number;
  completed: number;
  failed: number;
  timedOut: number;
  unfinished: number;
  elapsedMs: number;
  perSec: number;
}

export interface SubscriptionHolderOptions {
  /** The server (loopback only). */
  readonly host: string;
  readonly port: number;
  /** Subscription i watches sip:p<i mod presentities>@domain. */
  readonly presentities: number;
  readonly domain: string;
  /** Expires of every SUBSCRIBE, seconds. */
  readonly expires: number;
  /** RFC 3261 T1 of the retransmissions, ms (T2 = 8·T1, given up at 64·T1). */
  readonly t1: number;
  /** Prefix of the Call-IDs. */
  readonly tag?: string;
}

/**
 * SIP watchers over UDP that open subscriptions and keep them: SUBSCRIBE with a window of outstanding ones,
 * every NOTIFY answered 200 for as long as the holder is open (a NOTIFY of an unknown dialog gets 481).
 */
export class SubscriptionHolder {
  readonly statuses: Record<string, number> = {};
  notifiesAnswered = 0;
  unknownRequests = 0;
  active = 0;
  private readonly run = runId();
  private readonly sockets: dgram.Socket[] = [];
  private readonly ports: number[] = [];
  private readonly subs = new Map<string, Sub>();
  private readonly rtx: UdpRetransmitter;
  private next = 0;
  private onSettled: (outcome: 'ok' | 'failed' | 'timeout') => void = () => undefined;

  private readonly host: string;
  private readonly port: number;

  constructor(private readonly o: SubscriptionHolderOptions) {
    assertLoopback(o.host);
    this.host = o.host;
    this.port = o.port;
    this.rtx = new UdpRetransmitter(
      (callId) => {
        const sub = this.subs.get(callId);
        if (sub && !sub.done) {
          sub.done = true;
          this.onSettled('timeout');
        }
      },
      this.o.t1,
      8 * this.o.t1,
    );
  }

  get retransmissions(): number {
    return this.rtx.retransmissions;
  }

  async open(n: number): Promise<void> {
    const { sockets, ports } = await openUdpSockets(n, '127.0.0.1', (data, index) => {
      this.onMessage(data, index);
    });
    this.sockets.push(...sockets);
    this.ports.push(...ports);
  }

  /**
   * Opens `count` more subscriptions; resolves once each got its 2xx and first NOTIFY, or failed, or timed
   * out (Timer F for the SUBSCRIBE; 32 s without progress for a NOTIFY after the 2xx).
   */
  subscribe(count: number, window: number): Promise<PhaseResult> {
    const first = this.next;
    const end = first + count;
    let outstanding = 0;
    let completed = 0;
    let failed = 0;
    let timedOut = 0;
    let progress = now();
    const t0 = now();
    return new Promise<PhaseResult>((resolve) => {
      const finish = (): void => {
        clearInterval(stall);
        const elapsedMs = now() - t0;
        resolve({
          count,
          completed,
          failed,
          timedOut,
          unfinished: outstanding,
          elapsedMs: Math.round(elapsedMs),
          perSec: perSecond(completed, elapsedMs),
        });
      };
      const pump = (): void => {
        while (outstanding < window && this.next < end) {
          const i = this.next++;
          const sock = i % this.sockets.length;
          const callId = `${this.o.tag ?? 'hold'}${this.run}-${i}@127.0.0.1`;
          this.subs.set(callId, { sock, ok: false, notified: false, done: false });
          outstanding++;
          this.rtx.send(callId, this.sockets[sock], this.request(i, sock, callId), this.host, this.port);
        }
        if (outstanding === 0 && this.next >= end) finish();
      };
      const stall = setInterval(() => {
        if (now() - progress > 64 * this.o.t1) finish();
      }, 1000);
      this.onSettled = (outcome) => {
        progress = now();
        outstanding--;
        if (outcome === 'ok') {
          completed++;
          this.active++;
        } else if (outcome === 'failed') failed++;
        else timedOut++;
        pump();
      };
      pump();
    });
  }

  close(): void {
    this.rtx.stop();
    for (const s of this.sockets) s.close();
  }

  private request(i: number, sock: number, callId: string): Buffer {
    const port = this.ports[sock];
    const presentity = `sip:p${i % this.o.presentities}@${this.o.domain}`;
    const watcher = `w${this.run}-${i}`;
    return Buffer.from(
      `SUBSCRIBE ${presentity} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${this.run}m${i};rport\r\n` +
        `Max-Forwards: 70\r\n` +
        `From: <sip:${watcher}@${this.o.domain}>;tag=${this.run}t${i}\r\n` +
        `To: <${presentity}>\r\n` +
        `Call-ID: ${callId}\r\n` +
        `CSeq: 1 SUBSCRIBE\r\n` +
        `Contact: <sip:${watcher}@127.0.0.1:${port}>\r\n` +
        `Event: presence\r\n` +
        `Accept: application/pidf+xml\r\n` +
        `Expires: ${this.o.expires}\r\n` +
        `Content-Length: 0\r\n\r\n`,
    );
  }

  private settle(sub: Sub): void {
    if (sub.done || !sub.ok || !sub.notified) return;
    sub.done = true;
    this.onSettled('ok');
  }

  private onMessage(data: Buffer, sockIndex: number): void {
    const msg = data.toString('latin1');
    const status = statusOf(msg);
    const callId = callIdOf(msg);
    const sub = callId === undefined ? undefined : this.subs.get(callId);
    const sock = this.sockets[sockIndex];
    if (status > 0) {
      if (!sub || callId === undefined) return;
      if (status < 200) {
        this.rtx.provisional(callId);
        return;
      }
      if (!this.rtx.final(callId)) return; // a retransmitted final response
      this.statuses[status] = (this.statuses[status] ?? 0) + 1;
      if (status < 300) {
        sub.ok = true;
        this.settle(sub);
      } else if (!sub.done) {
        sub.done = true;
        this.onSettled('failed');
      }
      return;
    }
    if (methodOf(msg) !== 'NOTIFY' || !sub) {
      this.unknownRequests++;
      sock.send(responseFor(msg, 481, 'Subscription Does Not Exist'), this.port, this.host);
      return;
    }
    sock.send(responseFor(msg), this.port, this.host);
    this.notifiesAnswered++;
    if (!sub.notified && headerValue(msg, 'CSeq') !== undefined) {
      sub.notified = true;
      this.settle(sub);
    }
  }
}
