/**
 * SUBSCRIBE rate: new presence dialogs (RFC 3856 / 6665) over UDP, with a window of outstanding ones.
 *
 * A subscription counts once its SUBSCRIBE got a 2xx and its first NOTIFY was received and answered 200
 * (the DESIGN.md figure "SUBSCRIBE → 2xx → first NOTIFY answered"). Latency is SUBSCRIBE sent → first NOTIFY
 * received. Requests are retransmitted per Timer E and given up at Timer F like a real UAC.
 *
 *   npx ts-node --transpile-only bench/load/subscribe-rate.ts --host 127.0.0.1 --port 5060 \
 *     --count 20000 --window 500 --duration 60
 *
 * Prints one JSON line. Watchers are sip:w<run>-<i>@domain over a pool of --presentities presentities.
 */
import type * as dgram from 'node:dgram';
import {
  UdpRetransmitter,
  WindowedLoad,
  assertLoopback,
  callIdOf,
  headerValue,
  methodOf,
  now,
  openUdpSockets,
  parseArgs,
  perSecond,
  responseFor,
  runId,
  statusOf,
  summarize,
} from './common';

const args = parseArgs({
  host: '127.0.0.1',
  port: 5060,
  count: 10000,
  window: 200,
  /** Seconds after which no new SUBSCRIBE is started. */
  duration: 60,
  /** Seconds to wait for outstanding subscriptions after the last one started. */
  drain: 35,
  /** SUBSCRIBEs started per second (open loop, still capped by --window); 0 = as fast as the window allows. */
  rate: 0,
  presentities: 100,
  domain: 'example.com',
  expires: 600,
  sockets: 1,
  t1: 500,
  localHost: '127.0.0.1',
});

interface Sub {
  i: number;
  sock: number;
  sentAt: number;
  ok: boolean;
  notifyAt: number;
  done: boolean;
}

const run = runId();
assertLoopback(args.host);
assertLoopback(args.localHost);

const subs = new Map<string, Sub>();
const statuses: Record<string, number> = {};
const latencies: number[] = [];
let completed = 0;
let failed = 0;
let timedOut = 0;
let notifiesAnswered = 0;
let unknownNotifies = 0;
let sockets: dgram.Socket[] = [];
let ports: number[] = [];

const rtx = new UdpRetransmitter(
  (callId) => {
    const sub = subs.get(callId);
    if (sub && !sub.done) {
      timedOut++;
      settle(sub);
    }
  },
  args.t1,
  8 * args.t1,
);

const load = new WindowedLoad(args, (i) => {
  const sock = i % sockets.length;
  const callId = `sr${run}-${i}@${args.localHost}`;
  subs.set(callId, { i, sock, sentAt: now(), ok: false, notifyAt: 0, done: false });
  rtx.send(callId, sockets[sock], subscribeRequest(i, sock, callId), args.host, args.port);
});

function settle(sub: Sub): void {
  sub.done = true;
  load.settle();
}

function subscribeRequest(i: number, sock: number, callId: string): Buffer {
  const port = ports[sock];
  const presentity = `sip:p${i % args.presentities}@${args.domain}`;
  const watcher = `w${run}-${i}`;
  return Buffer.from(
    `SUBSCRIBE ${presentity} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${args.localHost}:${port};branch=z9hG4bK${run}s${i};rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:${watcher}@${args.domain}>;tag=${run}t${i}\r\n` +
      `To: <${presentity}>\r\n` +
      `Call-ID: ${callId}\r\n` +
      `CSeq: 1 SUBSCRIBE\r\n` +
      `Contact: <sip:${watcher}@${args.localHost}:${port}>\r\n` +
      `Event: presence\r\n` +
      `Accept: application/pidf+xml\r\n` +
      `Expires: ${args.expires}\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

function complete(sub: Sub): void {
  if (sub.done || !sub.ok || sub.notifyAt === 0) return;
  completed++;
  latencies.push(sub.notifyAt - sub.sentAt);
  settle(sub);
}

function onMessage(data: Buffer, sockIndex: number): void {
  const msg = data.toString('latin1');
  const status = statusOf(msg);
  const callId = callIdOf(msg);
  const sub = callId === undefined ? undefined : subs.get(callId);
  if (status > 0) {
    if (!sub) return;
    if (status < 200) {
      rtx.provisional(callId!);
      return;
    }
    if (!rtx.final(callId!)) return; // retransmitted final response
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status < 300) {
      sub.ok = true;
      complete(sub);
    } else if (!sub.done) {
      failed++;
      settle(sub);
    }
    return;
  }
  if (methodOf(msg) !== 'NOTIFY') {
    sockets[sockIndex].send(responseFor(msg, 501, 'Not Implemented'), args.port, args.host);
    return;
  }
  if (!sub) {
    // Not one of ours (an earlier run's dialog): RFC 6665 §4.1.3, 481 ends it.
    unknownNotifies++;
    sockets[sockIndex].send(responseFor(msg, 481, 'Subscription Does Not Exist'), args.port, args.host);
    return;
  }
  sockets[sockIndex].send(responseFor(msg), args.port, args.host);
  notifiesAnswered++;
  if (sub.notifyAt === 0 && headerValue(msg, 'CSeq') !== undefined) {
    sub.notifyAt = now();
    complete(sub);
  }
}

async function main(): Promise<void> {
  ({ sockets, ports } = await openUdpSockets(args.sockets, args.localHost, onMessage));
  await load.run();
  rtx.stop();
  // Let NOTIFY answers still in flight leave before the sockets close.
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const s of sockets) s.close();

  const elapsedMs = load.elapsedMs;
  const result = {
    script: 'subscribe-rate',
    command: `ts-node --transpile-only bench/load/subscribe-rate.ts ${process.argv.slice(2).join(' ')}`.trim(),
    host: args.host,
    port: args.port,
    transport: 'udp',
    count: args.count,
    window: args.window,
    rate: args.rate,
    sockets: sockets.length,
    started: load.started,
    completed,
    failed,
    timedOut,
    unfinished: load.outstanding,
    statuses,
    retransmissions: rtx.retransmissions,
    notifiesAnswered,
    unknownNotifies,
    elapsedMs: Math.round(elapsedMs),
    subscriptionsPerSec: perSecond(completed, elapsedMs),
    subscribeToNotifyMs: summarize(latencies),
  };
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
