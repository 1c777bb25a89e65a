/**
 * Overload (the DESIGN.md figure "flood at 3× capacity": ≥ 90% answered (2xx or 503), OPTIONS ≥ 99%,
 * RSS ≤ 2× idle, recovery ≤ 2 s).
 *
 *   npx ts-node --transpile-only bench/load/overload.ts --factor 3 --flood 6
 *
 * 1. Sustainable rates: a server (built with tsc into a temporary directory, see startup.ts) on a fresh SQLite
 *    data directory and free loopback ports; new PUBLISHes, then new SUBSCRIBEs (every NOTIFY answered), each
 *    closed-loop with --window outstanding for --measure seconds; the rate of 2xx is the sustainable rate.
 * 2. Floods, each on a fresh server: idle RSS (VmRSS, minimum of a few samples), then new PUBLISHes at
 *    --factor × the sustainable PUBLISH rate for --flood seconds, open-loop (no retransmission: a request the
 *    server never answers counts as unanswered), with OPTIONS at --options-rate/s from another socket; then,
 *    on another fresh server, the same for SUBSCRIBE. VmRSS is sampled every 100 ms. After each flood a new request of the same kind
 *    is sent every 100 ms: the recovery time runs from the flood's last request to the 2xx of the first probe
 *    after which --recovered probes in a row got 2xx.
 *
 * Answered = 2xx or 503 received within --grace seconds of the flood's end. Loopback only; every phase is
 * bounded in time; the servers are stopped at the end. Prints one JSON line.
 */
import * as dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertLoopback,
  bigBuffers,
  callIdOf,
  methodOf,
  now,
  parseArgs,
  perSecond,
  responseFor,
  runId,
  sleep,
  statusOf,
} from './common';
import {
  freePort,
  prepareRuntime,
  startServer,
  stopServer,
  vmRssKiB,
  waitHealthy,
  type Server,
  type ServerRuntime,
} from './startup';

const args = parseArgs({
  /** Flood rate as a multiple of the measured sustainable rate. */
  factor: 3,
  /** Seconds of each closed-loop rate measurement. */
  measure: 6,
  window: 200,
  /** Seconds of each flood. */
  flood: 6,
  optionsRate: 100,
  /** Seconds after a flood within which answers count. */
  grace: 3,
  /** Consecutive 2xx probes that mean full service. */
  recovered: 5,
  /** Seconds of probing after a flood before giving up on recovery. */
  recoveryLimit: 10,
  presentities: 200,
  expires: 600,
  domain: 'example.com',
  sockets: 4,
  /** Skip phase 1 and flood at these rates (both > 0). */
  publishRate: 0,
  subscribeRate: 0,
  runtime: 'build',
  /** Hard limit for the whole run, seconds. */
  timeout: 600,
});

type Kind = 'PUBLISH' | 'SUBSCRIBE';

const run = runId();
let seq = 0;

const PIDF = (entity: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\r\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}">` +
  `<tuple id="t1"><status><basic>open</basic></status></tuple></presence>\r\n`;

/** A new (out-of-dialog) request of `kind`, or OPTIONS, from `port`; returns its Call-ID and bytes. */
function request(kind: Kind | 'OPTIONS', port: number): { callId: string; data: Buffer } {
  const i = seq++;
  const callId = `ov${run}-${i}@127.0.0.1`;
  // Every PUBLISH is a new publication of a presentity of its own (a presentity takes at most
  // pa.maxPublicationsPerPresentity); SUBSCRIBEs spread over --presentities.
  const presentity = `sip:p${run}-${kind === 'PUBLISH' ? `pub${i}` : i % args.presentities}@${args.domain}`;
  const from = kind === 'PUBLISH' ? presentity : `sip:w${run}-${i}@${args.domain}`;
  const uri = kind === 'OPTIONS' ? `sip:${args.domain}` : presentity;
  const body = kind === 'PUBLISH' ? PIDF(presentity) : '';
  let extra = '';
  if (kind === 'PUBLISH')
    extra = `Event: presence\r\nExpires: ${args.expires}\r\nContent-Type: application/pidf+xml\r\n`;
  if (kind === 'SUBSCRIBE') {
    extra =
      `Event: presence\r\nAccept: application/pidf+xml\r\nExpires: ${args.expires}\r\n` +
      `Contact: <sip:w${run}-${i}@127.0.0.1:${port}>\r\n`;
  }
  const text =
    `${kind} ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${run}o${i};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <${from}>;tag=${run}t${i}\r\n` +
    `To: <${uri}>\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: 1 ${kind}\r\n` +
    extra +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return { callId, data: Buffer.from(text) };
}

/**
 * Datagrams the kernel dropped so far for each of `ports` (the `drops` column of /proc/net/udp): on the server's
 * port, requests that never reached it; on the load's ports, answers the load generator was too slow to read.
 */
function kernelDrops(ports: readonly number[]): number[] {
  const drops = ports.map(() => 0);
  let text = '';
  try {
    text = readFileSync('/proc/net/udp', 'latin1');
  } catch {
    return drops;
  }
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 13) continue;
    const port = parseInt(cols[1].split(':')[1] ?? '', 16);
    const at = ports.indexOf(port);
    if (at >= 0) drops[at] += Number(cols[cols.length - 1]) || 0;
  }
  return drops;
}

/** UDP sockets that send requests and collect the first final status of each by Call-ID. */
class Load {
  readonly finals = new Map<string, { status: number; at: number }>();
  notifiesAnswered = 0;
  private readonly sockets: dgram.Socket[] = [];
  readonly ports: number[] = [];
  private next = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async open(n: number): Promise<void> {
    for (let s = 0; s < n; s++) {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
      bigBuffers(sock);
      sock.on('message', (data) => {
        this.onMessage(data, sock);
      });
      this.sockets.push(sock);
      this.ports.push(sock.address().port);
    }
  }

  send(kind: Kind | 'OPTIONS'): string {
    const s = this.next++ % this.sockets.length;
    const { callId, data } = request(kind, this.ports[s]);
    this.sockets[s].send(data, this.port, this.host);
    return callId;
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }

  private onMessage(data: Buffer, sock: dgram.Socket): void {
    const msg = data.toString('latin1');
    const status = statusOf(msg);
    if (status === 0) {
      // NOTIFY of a subscription we opened (or anything the server asks): 200.
      if (methodOf(msg) === 'NOTIFY') this.notifiesAnswered++;
      sock.send(responseFor(msg), this.port, this.host);
      return;
    }
    if (status < 200) return;
    const callId = callIdOf(msg);
    if (callId !== undefined && !this.finals.has(callId)) this.finals.set(callId, { status, at: now() });
  }
}

/** Closed loop: `window` requests outstanding (each new one once one is answered), for `seconds`. */
async function sustainable(kind: Kind, host: string, port: number): Promise<number> {
  const load = new Load(host, port);
  await load.open(args.sockets);
  const outstanding = new Map<string, number>();
  let ok = 0;
  const t0 = now();
  const end = t0 + args.measure * 1000;
  while (now() < end) {
    for (const [callId, sentAt] of outstanding) {
      const f = load.finals.get(callId);
      if (f !== undefined) {
        if (f.status < 300) ok++;
        outstanding.delete(callId);
      } else if (now() - sentAt > 4000) outstanding.delete(callId); // lost: do not stall the window
    }
    while (outstanding.size < args.window) outstanding.set(load.send(kind), now());
    await sleep(1);
  }
  const rate = perSecond(ok, now() - t0);
  await sleep(500);
  load.close();
  return rate;
}

interface FloodResult {
  kind: Kind;
  ratePerSec: number;
  sent: number;
  sentPerSec: number;
  ok: number;
  shed503: number;
  other: number;
  unanswered: number;
  answeredFraction: number;
  optionsSent: number;
  optionsAnswered: number;
  optionsFraction: number;
  recoveryMs: number | null;
  peakRssKiB: number;
  /** Requests the kernel dropped before the server read them, and answers it dropped before we read them. */
  serverSocketDrops: number;
  loadSocketDrops: number;
}

const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 10000) / 10000 : 0);

async function flood(kind: Kind, rate: number, server: Server, port: number): Promise<FloodResult> {
  const load = new Load('127.0.0.1', port);
  await load.open(args.sockets);
  const options = new Load('127.0.0.1', port);
  await options.open(1);
  const probe = new Load('127.0.0.1', port);
  await probe.open(1);
  const sent: string[] = [];
  const optionsSent: string[] = [];
  const watched = [port, ...load.ports, ...options.ports];
  const dropsBefore = kernelDrops(watched);
  let peakRssKiB = vmRssKiB(server.pid);
  const rss = setInterval(() => {
    peakRssKiB = Math.max(peakRssKiB, vmRssKiB(server.pid));
  }, 100);
  const t0 = now();
  const end = t0 + args.flood * 1000;
  while (now() < end) {
    const elapsed = now() - t0;
    const due = Math.floor((elapsed * rate) / 1000);
    while (sent.length < due) sent.push(load.send(kind));
    while (optionsSent.length < Math.floor((elapsed * args.optionsRate) / 1000))
      optionsSent.push(options.send('OPTIONS'));
    await sleep(1);
  }
  const floodEnd = now();
  // Recovery: a new request every 100 ms until --recovered 2xx in a row.
  const probes: string[] = [];
  let recoveryMs: number | null = null;
  while (now() - floodEnd < args.recoveryLimit * 1000) {
    probes.push(probe.send(kind));
    await sleep(100);
    const answered = probes.map((c) => probe.finals.get(c));
    for (let i = 0; i + args.recovered <= answered.length; i++) {
      const run = answered.slice(i, i + args.recovered);
      if (run.every((f) => f !== undefined && f.status >= 200 && f.status < 300)) {
        recoveryMs = Math.round(run[0]!.at - floodEnd);
        break;
      }
    }
    if (recoveryMs !== null) break;
  }
  const waitUntil = floodEnd + args.grace * 1000;
  if (now() < waitUntil) await sleep(waitUntil - now());
  clearInterval(rss);
  const dropped = kernelDrops(watched).map((d, i) => d - dropsBefore[i]);
  let ok = 0;
  let shed503 = 0;
  let other = 0;
  for (const c of sent) {
    const f = load.finals.get(c);
    if (f === undefined || f.at > waitUntil) continue;
    if (f.status >= 200 && f.status < 300) ok++;
    else if (f.status === 503) shed503++;
    else other++;
  }
  const optionsAnswered = optionsSent.filter((c) => options.finals.get(c)?.status === 200).length;
  load.close();
  options.close();
  probe.close();
  return {
    kind,
    ratePerSec: Math.round(rate),
    sent: sent.length,
    sentPerSec: perSecond(sent.length, floodEnd - t0),
    ok,
    shed503,
    other,
    unanswered: sent.length - ok - shed503 - other,
    answeredFraction: ratio(ok + shed503, sent.length),
    optionsSent: optionsSent.length,
    optionsAnswered,
    optionsFraction: ratio(optionsAnswered, optionsSent.length),
    recoveryMs,
    peakRssKiB,
    serverSocketDrops: dropped[0],
    loadSocketDrops: dropped.slice(1).reduce((a, b) => a + b, 0),
  };
}

async function withServer<T>(
  runtime: ServerRuntime,
  body: (server: Server, sipPort: number) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ph-bench-overload-'));
  const sipPort = await freePort();
  const httpPort = await freePort();
  const server = startServer({ runtime, sipPort, httpPort, dataDir });
  current = server;
  try {
    await waitHealthy(server, httpPort);
    return await body(server, sipPort);
  } finally {
    await stopServer(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

let current: Server | undefined;

async function main(): Promise<void> {
  assertLoopback('127.0.0.1');
  if (args.runtime !== 'build' && args.runtime !== 'ts-node') throw new Error('--runtime is build or ts-node');
  const hardStop = setTimeout(() => {
    process.stderr.write('overload: hard time limit reached\n');
    if (current?.isRunning()) current.child.kill('SIGKILL');
    process.exit(3);
  }, args.timeout * 1000);
  hardStop.unref();
  const runtime = prepareRuntime(args.runtime);
  try {
    let publishRate = args.publishRate;
    let subscribeRate = args.subscribeRate;
    if (publishRate <= 0 || subscribeRate <= 0) {
      await withServer(runtime, async (_server, port) => {
        await sleep(2000);
        publishRate = await sustainable('PUBLISH', '127.0.0.1', port);
        process.stderr.write(`# sustainable PUBLISH ${publishRate}/s\n`);
        await sleep(2000);
        subscribeRate = await sustainable('SUBSCRIBE', '127.0.0.1', port);
        process.stderr.write(`# sustainable SUBSCRIBE ${subscribeRate}/s\n`);
      });
    }
    // Each flood on a fresh server, its RSS peak against that server's idle RSS: what one flood takes in
    // (publications, subscriptions) is state the next flood would otherwise count as its own growth.
    const floods: (FloodResult & { idleRssKiB: number; peakOverIdle: number })[] = [];
    for (const [kind, rate] of [
      ['PUBLISH', publishRate],
      ['SUBSCRIBE', subscribeRate],
    ] as const) {
      const r = await withServer(runtime, async (server, port) => {
        await sleep(3000);
        const samples: number[] = [];
        for (let k = 0; k < 5; k++) {
          samples.push(vmRssKiB(server.pid));
          await sleep(200);
        }
        const idleRssKiB = Math.min(...samples);
        const f = await flood(kind, rate * args.factor, server, port);
        return { ...f, idleRssKiB, peakOverIdle: ratio(f.peakRssKiB, idleRssKiB) };
      });
      process.stderr.write(`# ${JSON.stringify(r)}\n`);
      floods.push(r);
    }
    const worst = floods.reduce((a, b) => (b.peakOverIdle > a.peakOverIdle ? b : a));
    const result = { idleRssKiB: worst.idleRssKiB, peakRssKiB: worst.peakRssKiB, floods };
    console.log(
      JSON.stringify({
        script: 'overload',
        command: `ts-node --transpile-only bench/load/overload.ts ${process.argv.slice(2).join(' ')}`.trim(),
        runtime: runtime.kind,
        factor: args.factor,
        floodSeconds: args.flood,
        sustainable: { publishPerSec: publishRate, subscribePerSec: subscribeRate },
        ...result,
        peakOverIdle: worst.peakOverIdle,
        answeredFraction: Math.min(...result.floods.map((f) => f.answeredFraction)),
        optionsFraction: Math.min(...result.floods.map((f) => f.optionsFraction)),
        recoveryMs: Math.max(...result.floods.map((f) => f.recoveryMs ?? Infinity)),
        target: { answeredFraction: 0.9, optionsFraction: 0.99, peakOverIdle: 2, recoveryMs: 2000 },
      }),
    );
  } finally {
    runtime.cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
