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
 *
 * With --rate R the valid REGISTERs are sent at R per second (open loop, at most --window outstanding)
 * instead of keeping the window full, and --bad-rate B mixes in B REGISTERs per second that do not fit the
 * schema (a 300-character AoR, a 2 KB Contact, a 300-character Call-ID, in turn). Latencies of the valid
 * ones are reported apart from the answers to the bad ones:
 *
 *   npx ts-node --transpile-only bench/load/register-rate.ts --port 5060 --count 30000 --rate 3000 \
 *     --bad-rate 50 --window 2000
 *
 * With --digest user:password every REGISTER is answered as a phone does against a server with auth.enabled:
 * the 401's challenge (--digest-algorithm SHA-256 or MD5) is answered in a second REGISTER (CSeq 2), and the
 * latency runs from the first REGISTER to the 200. The user must exist and may register the bench's AoRs
 * (auth.registerOthers); --unregister is not answered with credentials:
 *
 *   npx ts-node --transpile-only bench/load/register-rate.ts --port 5060 --count 20000 --window 300 \
 *     --digest bench:bench-secret
 */
import * as dgram from 'node:dgram';
import { answerChallenge, formatCredentials, parseChallenge } from '../../src/sip';
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
  rate: 0,
  badRate: 0,
  digest: '',
  digestAlgorithm: 'SHA-256',
});
const [digestUser, ...digestPassword] = args.digest.split(':');
let challenged = 0;

/** The ways a bad REGISTER does not fit the schema, in turn. */
const BAD_KINDS = ['aor', 'contact', 'callId'] as const;
type BadKind = (typeof BAD_KINDS)[number];
assertLoopback(args.host);
assertLoopback(args.localHost);

interface Reg {
  i: number;
  sock: number;
  sentAt: number;
  done: boolean;
  phase: 'register' | 'unregister';
  bad?: BadKind;
  /** The Authorization sent in answer to the 401 (--digest), reused to unregister with the next nonce-count. */
  authorized?: boolean;
}

const regs = new Map<string, Reg>();
const statuses: Record<string, number> = {};
const latencies: number[] = [];
const badStatuses: Record<string, number> = {};
const badLatencies: number[] = [];
let badStarted = 0;
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
    if (reg?.bad && !reg.done) {
      reg.done = true;
      badStatuses.timeout = (badStatuses.timeout ?? 0) + 1;
    } else if (reg && !reg.done && reg.phase === 'register') {
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

function registerRequest(
  i: number,
  sock: number,
  callId: string,
  cseq: number,
  expires: number,
  bad?: BadKind,
  authorization?: string,
): Buffer {
  const port = ports[sock];
  const user = bad === 'aor' ? `${args.prefix}bad${i}-${'a'.repeat(300)}` : `${args.prefix}${i}`;
  const aor = `sip:${user}@${args.domain}`;
  const contactParams = bad === 'contact' ? `;x=${'c'.repeat(2048)}` : '';
  return Buffer.from(
    `REGISTER sip:${args.domain} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${args.localHost}:${port};branch=z9hG4bK${run}r${i}c${cseq};rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <${aor}>;tag=${run}t${i}\r\n` +
      `To: <${aor}>\r\n` +
      `Call-ID: ${callId}\r\n` +
      `CSeq: ${cseq} REGISTER\r\n` +
      `Contact: <sip:${user}@${args.localHost}:${port}${contactParams}>\r\n` +
      `Expires: ${expires}\r\n` +
      (authorization === undefined ? '' : `Authorization: ${authorization}\r\n`) +
      `Content-Length: 0\r\n\r\n`,
  );
}

function startOne(bad?: BadKind): void {
  const i = bad ? args.count + badStarted++ : started++;
  const sock = i % sockets.length;
  const callId =
    bad === 'callId' ? `${run}-${i}-${'i'.repeat(300)}@${args.localHost}` : `${run}-${i}@${args.localHost}`;
  const t = now();
  if (firstSend === 0) firstSend = t;
  regs.set(callId, { i, sock, sentAt: t, done: false, phase: 'register', bad });
  if (!bad) outstanding++;
  rtx.send(callId, sockets[sock], registerRequest(i, sock, callId, 1, args.expires, bad), args.host, args.port);
}

/** Closed loop: keeps --window valid REGISTERs outstanding. */
function pump(): void {
  while (args.rate === 0 && !stopStarting && outstanding < args.window && started < args.count) startOne();
  if (outstanding === 0 && (started >= args.count || stopStarting)) finish();
}

/** Open loop (--rate, --bad-rate): every 5 ms, starts what is due by now. */
function pace(): NodeJS.Timeout {
  return setInterval(() => {
    if (firstSend === 0) firstSend = now();
    const elapsed = now() - firstSend;
    if (stopStarting || started >= args.count) return;
    const due = Math.min(args.count, Math.floor((elapsed * args.rate) / 1000));
    while (started < due && outstanding < args.window) startOne();
    const badDue = Math.floor((elapsed * args.badRate) / 1000);
    while (badStarted < badDue) startOne(BAD_KINDS[badStarted % BAD_KINDS.length]);
  }, 5);
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
  if (reg.bad) {
    if (reg.done) return;
    reg.done = true;
    badStatuses[status] = (badStatuses[status] ?? 0) + 1;
    badLatencies.push(now() - reg.sentAt);
    return;
  }
  if (status === 401 && args.digest !== '' && !reg.authorized && !reg.done) {
    answerChallengeOf(msg, reg, callId!);
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

/** Sends the REGISTER that answers a 401 (RFC 3261 §22.2): same Call-ID, CSeq 2, Authorization. */
function answerChallengeOf(msg: string, reg: Reg, callId: string): void {
  const challenges = [...msg.matchAll(/^WWW-Authenticate:[ \t]*(.*)$/gim)].map((m) => parseChallenge(m[1].trim()));
  const ch = challenges.find((c) => c?.algorithm === args.digestAlgorithm);
  if (ch === undefined) throw new Error(`no ${args.digestAlgorithm} challenge in:\n${msg}`);
  challenged++;
  reg.authorized = true;
  const creds = answerChallenge(ch, {
    username: digestUser,
    password: digestPassword.join(':'),
    method: 'REGISTER',
    uri: `sip:${args.domain}`,
  });
  const req = registerRequest(reg.i, reg.sock, callId, 2, args.expires, undefined, formatCredentials(creds));
  rtx.send(callId, sockets[reg.sock], req, args.host, args.port);
}

async function unregisterAll(): Promise<void> {
  let sent = 0;
  for (const [callId, reg] of regs) {
    if (reg.bad) continue;
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
  const pacer = args.rate > 0 ? pace() : undefined;
  pump();
  await Promise.race([done, drained]);
  if (pacer) clearInterval(pacer);
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
      ...(args.digest !== '' && { digest: args.digestAlgorithm, challenged }),
      unregistered: args.unregister ? unregistered : undefined,
      elapsedMs: Math.round(elapsedMs),
      registersPerSec: perSecond(ok, elapsedMs),
      registerTo200Ms: summarize(latencies),
      ...(args.badRate > 0 && {
        rate: args.rate,
        badRate: args.badRate,
        badSent: badStarted,
        badStatuses,
        badAnswerMs: summarize(badLatencies),
      }),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
