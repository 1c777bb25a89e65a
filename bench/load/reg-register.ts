/**
 * REGISTER with one `reg` watcher per AoR (RFC 3680) over UDP: --aors AoRs, each first watched by a reg
 * subscription of its own (not timed), then --count REGISTERs round-robin over them (the first of each AoR
 * creates its binding, the rest refresh it), with --window outstanding and at most one per AoR at a time;
 * with --rate, started no faster than that many per second (open loop, still capped by the window), which
 * measures the REGISTER->NOTIFY delay at a given load rather than the window's queueing.
 * A REGISTER counts when its 200 arrived and the reg NOTIFY it caused was received (and answered 200).
 *
 *   npx ts-node --transpile-only bench/load/reg-register.ts --host 127.0.0.1 --port 5060 \
 *     --aors 2000 --count 20000 --window 200
 *
 * Prints one JSON line: registersPerSec (REGISTERs with both their 200 and their NOTIFY, per second),
 * registerTo200Ms and registerToNotifyMs (REGISTER sent → reg NOTIFY received) summaries, and notifies
 * (every reg NOTIFY received during the REGISTER phase: one per REGISTER is expected).
 */
import type * as dgram from 'node:dgram';
import {
  UdpRetransmitter,
  assertLoopback,
  callIdOf,
  methodOf,
  now,
  openUdpSockets,
  parseArgs,
  perSecond,
  responseFor,
  runId,
  sleep,
  startsAllowed,
  statusOf,
  summarize,
} from './common';

const args = parseArgs({
  host: '127.0.0.1',
  port: 5060,
  aors: 2000,
  count: 20000,
  window: 200,
  /** REGISTERs started per second (open loop, still capped by --window); 0 = as fast as the window allows. */
  rate: 0,
  /** Seconds after which no new REGISTER is started. */
  duration: 60,
  domain: 'example.com',
  expires: 600,
  t1: 500,
  localHost: '127.0.0.1',
});

const run = runId();
assertLoopback(args.host);
assertLoopback(args.localHost);

interface Aor {
  readonly i: number;
  readonly user: string;
  subscribed: boolean;
  watched: boolean;
  /** SUBSCRIBE attempts: one answered 503 (the server shedding load) is sent again after a pause. */
  attempts: number;
  cseq: number;
  /** The REGISTER outstanding for this AoR. */
  sentAt: number;
  answered: boolean;
  notified: boolean;
  busy: boolean;
}

const aors: Aor[] = [];
/** Call-ID of a reg subscription or of a REGISTER → its AoR. */
const bySubscription = new Map<string, Aor>();
const byRegister = new Map<string, Aor>();
const to200: number[] = [];
const toNotify: number[] = [];
let watcherSock: dgram.Socket;
let phoneSock: dgram.Socket;
let phase: 'subscribe' | 'register' = 'subscribe';
let notifies = 0;
let started = 0;
let completed = 0;
let failed = 0;
let timedOut = 0;
let outstanding = 0;
let next = 0;
let stopStarting = false;
let firstSend = 0;
let lastDone = 0;
let wake: () => void = () => undefined;
const statuses: Record<string, number> = {};

const rtx = new UdpRetransmitter(
  (key) => {
    const aor = byRegister.get(key) ?? bySubscription.get(key);
    if (aor?.busy) {
      timedOut++;
      finishOne(aor);
    }
  },
  args.t1,
  8 * args.t1,
);

function subscribeRequest(a: Aor, port: number): Buffer {
  const aor = `sip:${a.user}@${args.domain}`;
  return Buffer.from(
    `SUBSCRIBE ${aor} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${args.localHost}:${port};branch=z9hG4bK${run}s${a.i}a${a.attempts};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <${aor}>;tag=${run}w${a.i}\r\nTo: <${aor}>\r\n` +
      `Call-ID: ${run}-s${a.i}@${args.localHost}\r\nCSeq: 1 SUBSCRIBE\r\n` +
      `Contact: <sip:w${a.i}@${args.localHost}:${port}>\r\nEvent: reg\r\nAccept: application/reginfo+xml\r\n` +
      `Expires: 3600\r\nContent-Length: 0\r\n\r\n`,
  );
}

function registerRequest(a: Aor, port: number): Buffer {
  const aor = `sip:${a.user}@${args.domain}`;
  return Buffer.from(
    `REGISTER sip:${args.domain} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${args.localHost}:${port};branch=z9hG4bK${run}r${a.i}c${a.cseq};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <${aor}>;tag=${run}p${a.i}\r\nTo: <${aor}>\r\n` +
      `Call-ID: ${run}-r${a.i}@${args.localHost}\r\nCSeq: ${a.cseq} REGISTER\r\n` +
      `Contact: <sip:${a.user}@${args.localHost}:${port}>\r\nExpires: ${args.expires}\r\nContent-Length: 0\r\n\r\n`,
  );
}

function finishOne(a: Aor): void {
  a.busy = false;
  outstanding--;
  lastDone = now();
  pump();
}

function complete(a: Aor): void {
  if (!a.busy || !a.answered || !a.notified) return;
  completed++;
  finishOne(a);
}

/** Keeps --window REGISTERs outstanding, round-robin over the AoRs, one per AoR at a time. */
function pump(): void {
  const allowed = startsAllowed(args.rate, firstSend);
  while (
    phase === 'register' &&
    !stopStarting &&
    outstanding < args.window &&
    started < args.count &&
    started < allowed
  ) {
    const a = aors[next];
    if (a.busy) break;
    next = (next + 1) % aors.length;
    a.cseq++;
    a.busy = true;
    a.answered = false;
    a.notified = false;
    a.sentAt = now();
    if (firstSend === 0) firstSend = a.sentAt;
    started++;
    outstanding++;
    const callId = `${run}-r${a.i}@${args.localHost}`;
    rtx.send(callId, phoneSock, registerRequest(a, phoneSock.address().port), args.host, args.port);
  }
  if (outstanding === 0 && (started >= args.count || stopStarting)) wake();
}

function onWatcherMessage(data: Buffer): void {
  const msg = data.toString('latin1');
  const status = statusOf(msg);
  const callId = callIdOf(msg) ?? '';
  const a = bySubscription.get(callId);
  if (status === 0) {
    watcherSock.send(responseFor(msg), args.port, args.host);
    if (methodOf(msg) !== 'NOTIFY' || !a) return;
    if (phase === 'subscribe') {
      if (!a.watched) {
        a.watched = true;
        wake();
      }
      return;
    }
    notifies++;
    if (a.busy && !a.notified && msg.includes('state="partial"')) {
      a.notified = true;
      toNotify.push(now() - a.sentAt);
      complete(a);
    }
    return;
  }
  if (a && status >= 200 && rtx.final(callId)) {
    a.subscribed = status < 300;
    if (status === 503 && a.attempts < 20) {
      setTimeout(() => {
        sendSubscribe(a);
      }, 200);
      return;
    }
    if (!a.subscribed) failed++;
    wake();
  }
}

function onPhoneMessage(data: Buffer): void {
  const msg = data.toString('latin1');
  const status = statusOf(msg);
  if (status === 0) {
    phoneSock.send(responseFor(msg), args.port, args.host);
    return;
  }
  const callId = callIdOf(msg) ?? '';
  const a = byRegister.get(callId);
  if (!a || status < 200 || !rtx.final(callId)) return;
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status >= 300) {
    failed++;
    finishOne(a);
    return;
  }
  a.answered = true;
  to200.push(now() - a.sentAt);
  complete(a);
}

function sendSubscribe(a: Aor): void {
  a.attempts++;
  const callId = `${run}-s${a.i}@${args.localHost}`;
  rtx.send(callId, watcherSock, subscribeRequest(a, watcherSock.address().port), args.host, args.port);
}

/** Until `done` holds or `ms` pass, waking on every answer or NOTIFY of the subscribe phase. */
async function waitFor(done: () => boolean, ms: number): Promise<void> {
  const deadline = now() + ms;
  while (!done() && now() < deadline) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 50);
    });
  }
}

/** One reg subscription per AoR, --window at a time, each with its first NOTIFY received (not timed). */
async function subscribeAll(): Promise<number> {
  const t0 = now();
  for (let from = 0; from < aors.length; from += args.window) {
    const batch = aors.slice(from, from + args.window);
    for (const a of batch) sendSubscribe(a);
    await waitFor(() => batch.every((a) => a.watched), 10_000);
  }
  return now() - t0;
}

/** A REGISTER answered whose NOTIFY never came within 5 s is given up (counted as timed out). */
function watchStalls(): NodeJS.Timeout {
  return setInterval(() => {
    const t = now();
    for (const a of aors) {
      if (a.busy && a.answered && !a.notified && t - a.sentAt > 5000) {
        timedOut++;
        finishOne(a);
      }
    }
  }, 500);
}

async function main(): Promise<void> {
  const { sockets } = await openUdpSockets(2, args.localHost, (data, index) => {
    if (index === 0) onWatcherMessage(data);
    else onPhoneMessage(data);
  });
  [watcherSock, phoneSock] = sockets;
  for (let i = 0; i < args.aors; i++) {
    const a: Aor = {
      i,
      user: `rg${run}-${i}`,
      subscribed: false,
      watched: false,
      attempts: 0,
      cseq: 0,
      sentAt: 0,
      answered: false,
      notified: false,
      busy: false,
    };
    aors.push(a);
    bySubscription.set(`${run}-s${i}@${args.localHost}`, a);
    byRegister.set(`${run}-r${i}@${args.localHost}`, a);
  }
  const subscribeMs = await subscribeAll();
  const watched = aors.filter((a) => a.watched).length;

  phase = 'register';
  const done = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const stopTimer = setTimeout(() => {
    stopStarting = true;
    if (outstanding === 0) wake();
  }, args.duration * 1000);
  const stalls = watchStalls();
  const ticker = args.rate > 0 ? setInterval(pump, 2) : undefined;
  pump();
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise<void>((resolve) => {
      giveUp = setTimeout(resolve, (args.duration + 35) * 1000);
    }),
  ]);
  clearTimeout(giveUp);
  clearTimeout(stopTimer);
  clearInterval(stalls);
  if (ticker) clearInterval(ticker);
  const elapsedMs = (lastDone || now()) - firstSend;
  // NOTIFYs still on their way are counted for a moment longer.
  await sleep(200);
  rtx.stop();
  watcherSock.close();
  phoneSock.close();

  console.log(
    JSON.stringify({
      script: 'reg-register',
      command: `ts-node --transpile-only bench/load/reg-register.ts ${process.argv.slice(2).join(' ')}`.trim(),
      aors: args.aors,
      watched,
      subscribeMs: Math.round(subscribeMs),
      count: args.count,
      window: args.window,
      rate: args.rate,
      started,
      completed,
      failed,
      timedOut,
      unfinished: outstanding,
      statuses,
      notifies,
      retransmissions: rtx.retransmissions,
      elapsedMs: Math.round(elapsedMs),
      registersPerSec: perSecond(completed, elapsedMs),
      registerTo200Ms: summarize(to200),
      registerToNotifyMs: summarize(toNotify),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
