/**
 * REGISTER rate over UDP: one REGISTER per distinct AoR (sip:<prefix><i>@domain), a window of outstanding
 * requests, Timer E retransmissions and Timer F give-up like a real UAC. Counts 2xx answers.
 * Requests the server sends meanwhile (NOTIFY for `reg` watchers, OPTIONS pings) are answered 200.
 *
 *   npx ts-node --transpile-only bench/load/register-rate.ts --host 127.0.0.1 --port 5060 \
 *     --count 20000 --window 500 --duration 60
 *
 * Prints one JSON line. The default prefix holds a random run id, so each run creates new AoRs; they expire
 * after --expires seconds (or pass --unregister to remove them after the measurement, not timed).
 */
import * as dgram from 'node:dgram';
import {
  UdpRetransmitter,
  assertLoopback,
  bigBuffers,
  callIdOf,
  now,
  parseArgs,
  perSecond,
  responseFor,
  runId,
  sleep,
  statusOf,
  summarize,
} from './common';

const run = runId();
const args = parseArgs({
  host: '127.0.0.1',
  port: 5060,
  count: 10000,
  window: 200,
  duration: 60,
  drain: 35,
  domain: 'example.com',
  expires: 600,
  prefix: `rr${run}-`,
  sockets: 1,
  t1: 500,
  localHost: '127.0.0.1',
  unregister: false,
});
assertLoopback(args.host);
assertLoopback(args.localHost);

interface Reg {
  i: number;
  sock: number;
  sentAt: number;
  done: boolean;
  phase: 'register' | 'unregister';
}

const regs = new Map<string, Reg>();
const statuses: Record<string, number> = {};
const latencies: number[] = [];
const sockets: dgram.Socket[] = [];
const ports: number[] = [];
let started = 0;
let ok = 0;
let failed = 0;
let timedOut = 0;
let outstanding = 0;
let firstSend = 0;
let lastDone = 0;
let stopStarting = false;
let requestsAnswered = 0;
let finish: () => void = () => undefined;

const rtx = new UdpRetransmitter(
  (callId) => {
    const reg = regs.get(callId);
    if (reg && !reg.done && reg.phase === 'register') {
      timedOut++;
      settle(reg);
    }
  },
  args.t1,
  8 * args.t1,
);

function settle(reg: Reg): void {
  reg.done = true;
  outstanding--;
  lastDone = now();
  pump();
}

function registerRequest(i: number, sock: number, callId: string, cseq: number, expires: number): Buffer {
  const port = ports[sock];
  const user = `${args.prefix}${i}`;
  const aor = `sip:${user}@${args.domain}`;
  return Buffer.from(
    `REGISTER sip:${args.domain} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${args.localHost}:${port};branch=z9hG4bK${run}r${i}c${cseq};rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <${aor}>;tag=${run}t${i}\r\n` +
      `To: <${aor}>\r\n` +
      `Call-ID: ${callId}\r\n` +
      `CSeq: ${cseq} REGISTER\r\n` +
      `Contact: <sip:${user}@${args.localHost}:${port}>\r\n` +
      `Expires: ${expires}\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

function pump(): void {
  while (!stopStarting && outstanding < args.window && started < args.count) {
    const i = started++;
    const sock = i % sockets.length;
    const callId = `${run}-${i}@${args.localHost}`;
    const t = now();
    if (firstSend === 0) firstSend = t;
    regs.set(callId, { i, sock, sentAt: t, done: false, phase: 'register' });
    outstanding++;
    rtx.send(callId, sockets[sock], registerRequest(i, sock, callId, 1, args.expires), args.host, args.port);
  }
  if (outstanding === 0 && (started >= args.count || stopStarting)) finish();
}

let unregistered = 0;

function onMessage(data: Buffer, sockIndex: number): void {
  const msg = data.toString('latin1');
  const status = statusOf(msg);
  if (status === 0) {
    // NOTIFY (reg event), OPTIONS keep-alive or anything else the server asks: acknowledge it.
    sockets[sockIndex].send(responseFor(msg), args.port, args.host);
    requestsAnswered++;
    return;
  }
  const callId = callIdOf(msg);
  const reg = callId === undefined ? undefined : regs.get(callId);
  if (!reg) return;
  if (status < 200) {
    rtx.provisional(callId!);
    return;
  }
  if (!rtx.final(callId!)) return;
  if (reg.phase === 'unregister') {
    if (status < 300) unregistered++;
    return;
  }
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (reg.done) return;
  if (status < 300) {
    ok++;
    latencies.push(now() - reg.sentAt);
  } else failed++;
  settle(reg);
}

async function unregisterAll(): Promise<void> {
  let sent = 0;
  for (const [callId, reg] of regs) {
    reg.phase = 'unregister';
    rtx.send(callId, sockets[reg.sock], registerRequest(reg.i, reg.sock, callId, 2, 0), args.host, args.port);
    if (++sent % args.window === 0) await sleep(5);
  }
  const deadline = now() + 10_000;
  while (rtx.size > 0 && now() < deadline) await sleep(20);
}

async function main(): Promise<void> {
  for (let s = 0; s < Math.max(1, args.sockets); s++) {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, args.localHost, resolve));
    bigBuffers(sock);
    const index = s;
    sock.on('message', (data) => {
      onMessage(data, index);
    });
    sockets.push(sock);
    ports.push(sock.address().port);
  }
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const stopTimer = setTimeout(() => {
    stopStarting = true;
    if (outstanding === 0) finish();
  }, args.duration * 1000);
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (stopStarting || started >= args.count) {
        clearInterval(check);
        drainTimer = setTimeout(resolve, args.drain * 1000);
      }
    }, 50);
  });
  pump();
  await Promise.race([done, drained]);
  clearTimeout(stopTimer);
  if (drainTimer) clearTimeout(drainTimer);
  const elapsedMs = (lastDone || now()) - firstSend;
  const unfinished = outstanding;
  const retransmissions = rtx.retransmissions;
  if (args.unregister) await unregisterAll();
  rtx.stop();
  await sleep(50);
  for (const s of sockets) s.close();

  console.log(
    JSON.stringify({
      script: 'register-rate',
      command: `ts-node --transpile-only bench/load/register-rate.ts ${process.argv.slice(2).join(' ')}`.trim(),
      host: args.host,
      port: args.port,
      transport: 'udp',
      count: args.count,
      window: args.window,
      sockets: sockets.length,
      started,
      ok,
      failed,
      timedOut,
      unfinished,
      statuses,
      retransmissions,
      requestsAnswered,
      unregistered: args.unregister ? unregistered : undefined,
      elapsedMs: Math.round(elapsedMs),
      registersPerSec: perSecond(ok, elapsedMs),
      registerTo200Ms: summarize(latencies),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
