/**
 * Memory per active subscription, overall and marginal (the DESIGN.md figure; target ≤ 3 KiB overall,
 * ≤ 1 KiB marginal).
 *
 *   npx ts-node --transpile-only bench/load/memory.ts --n1 10000 --n2 30000 --presentities 1000
 *
 * Starts the server (see startup.ts: a tsc build in a temporary directory, or --runtime ts-node) on a fresh
 * SQLite data directory and free loopback ports, then opens --n1 and then --n2 more SIP presence
 * subscriptions over UDP (SUBSCRIBE Expires --expires, every NOTIFY answered 200), spread over
 * --presentities presentities, and keeps them open. The server's memory is read at baseline (before any
 * load), after n1 and after n1+n2, each time once --settle seconds passed after the load (so that completed
 * transactions are gone: Timer J is 64*T1 = 32 s): VmRSS from /proc several times, minimum kept. Then a
 * tiny preload in the server (node --expose-gc -r <hook>, written to the temporary directory; src/ is not
 * touched) forces a full GC on SIGWINCH and reports process.memoryUsage(), so that the same figures are also
 * given after GC and for the JS heap alone.
 *
 *   overall  = (RSS(n1+n2) − RSS(baseline)) / (n1+n2)
 *   marginal = (RSS(n1+n2) − RSS(n1)) / n2
 *
 * Loopback only; bounded by --timeout seconds. Prints one JSON line.
 */
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  UdpRetransmitter,
  bigBuffers,
  callIdOf,
  headerValue,
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
  sipSubscriptionTotal,
  startServer,
  stopServer,
  vmRssKiB,
  waitHealthy,
  type Server,
} from './startup';

const args = parseArgs({
  n1: 10000,
  n2: 30000,
  presentities: 1000,
  domain: 'example.com',
  expires: 3600,
  window: 300,
  sockets: 4,
  /** Seconds to wait after a load phase before measuring (completed transactions: Timer J = 32 s). */
  settle: 35,
  /** Seconds to wait after start before the baseline. */
  baselineSettle: 5,
  /** VmRSS samples per measurement, one a second; the minimum is kept. */
  samples: 5,
  /** Forced-GC samples per measurement (0: none, and no preload in the server). */
  gcSamples: 3,
  /** `build` (tsc into a temporary directory, then node) or `ts-node`. */
  runtime: 'build',
  t1: 500,
  /** Hard limit for the whole run, seconds. */
  timeout: 300,
});

/** Preloaded into the server: on SIGWINCH, two full GCs, then process.memoryUsage() into a file. */
const HOOK = `'use strict';
const fs = require('fs');
const out = process.env.PH_BENCH_MEMORY_FILE;
process.on('SIGWINCH', () => {
  if (typeof globalThis.gc === 'function') { globalThis.gc(); globalThis.gc(); }
  const m = process.memoryUsage();
  fs.writeFileSync(out + '.tmp', JSON.stringify({ pid: process.pid, at: Date.now(), rss: m.rss, heapUsed: m.heapUsed,
    heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }));
  fs.renameSync(out + '.tmp', out);
});
`;

interface GcReport {
  pid: number;
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

interface Measurement {
  /** Minimum VmRSS without forcing a GC, KiB. */
  rssKiB: number;
  rssSamplesKiB: number[];
  /** After forced full GCs (minimum of the samples), KiB. */
  gcRssKiB?: number;
  heapUsedKiB?: number;
  heapTotalKiB?: number;
  externalKiB?: number;
  /** Where the RSS is after GC, from /proc/<pid>/smaps, KiB (see `rssParts`). */
  gcRssParts?: RssParts;
}

/**
 * RSS by kind of mapping: 256 KiB anonymous mappings (V8 heap pages), the brk heap (`[heap]`, malloc),
 * other anonymous mappings (malloc arenas, V8 large objects, thread stacks) and mapped files (code).
 */
interface RssParts {
  v8PagesKiB: number;
  brkHeapKiB: number;
  otherAnonKiB: number;
  filesKiB: number;
}

function rssParts(pid: number): RssParts {
  const parts: RssParts = { v8PagesKiB: 0, brkHeapKiB: 0, otherAnonKiB: 0, filesKiB: 0 };
  let kind: keyof RssParts = 'otherAnonKiB';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const map = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (map) {
      const name = map[3].trim();
      const size = (parseInt(map[2], 16) - parseInt(map[1], 16)) / 1024;
      if (name === '[heap]') kind = 'brkHeapKiB';
      else if (name.startsWith('/')) kind = 'filesKiB';
      else if (name === '' && size === 256) kind = 'v8PagesKiB';
      else kind = 'otherAnonKiB';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) parts[kind] += Number(rss[1]);
  }
  return parts;
}

interface Sub {
  sock: number;
  ok: boolean;
  notified: boolean;
  done: boolean;
}

interface PhaseResult {
  count: number;
  completed: number;
  failed: number;
  timedOut: number;
  unfinished: number;
  elapsedMs: number;
  perSec: number;
}

/** SIP watchers over UDP: SUBSCRIBE with a window of outstanding ones, every NOTIFY answered 200. */
class Watchers {
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

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.rtx = new UdpRetransmitter(
      (callId) => {
        const sub = this.subs.get(callId);
        if (sub && !sub.done) {
          sub.done = true;
          this.onSettled('timeout');
        }
      },
      args.t1,
      8 * args.t1,
    );
  }

  get retransmissions(): number {
    return this.rtx.retransmissions;
  }

  async open(n: number): Promise<void> {
    for (let s = 0; s < n; s++) {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
      bigBuffers(sock);
      const index = s;
      sock.on('message', (data) => {
        this.onMessage(data, index);
      });
      this.sockets.push(sock);
      this.ports.push(sock.address().port);
    }
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
          const callId = `mem${this.run}-${i}@127.0.0.1`;
          this.subs.set(callId, { sock, ok: false, notified: false, done: false });
          outstanding++;
          this.rtx.send(callId, this.sockets[sock], this.request(i, sock, callId), this.host, this.port);
        }
        if (outstanding === 0 && this.next >= end) finish();
      };
      const stall = setInterval(() => {
        if (now() - progress > 64 * args.t1) finish();
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
    const presentity = `sip:p${i % args.presentities}@${args.domain}`;
    const watcher = `w${this.run}-${i}`;
    return Buffer.from(
      `SUBSCRIBE ${presentity} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${this.run}m${i};rport\r\n` +
        `Max-Forwards: 70\r\n` +
        `From: <sip:${watcher}@${args.domain}>;tag=${this.run}t${i}\r\n` +
        `To: <${presentity}>\r\n` +
        `Call-ID: ${callId}\r\n` +
        `CSeq: 1 SUBSCRIBE\r\n` +
        `Contact: <sip:${watcher}@127.0.0.1:${port}>\r\n` +
        `Event: presence\r\n` +
        `Accept: application/pidf+xml\r\n` +
        `Expires: ${args.expires}\r\n` +
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

const minOf = (xs: number[]): number => Math.min(...xs);

async function gcReport(server: Server, file: string, timeoutMs = 10_000): Promise<GcReport> {
  const sent = Date.now();
  process.kill(server.pid, 'SIGWINCH');
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    await sleep(50);
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8')) as GcReport;
    if (r.at >= sent && r.pid === server.pid) return r;
  }
  throw new Error('no answer from the GC hook in the server');
}

async function measure(label: string, server: Server, gcFile: string): Promise<Measurement> {
  const rss: number[] = [];
  for (let k = 0; k < Math.max(1, args.samples); k++) {
    if (k > 0) await sleep(1000);
    rss.push(vmRssKiB(server.pid));
  }
  const m: Measurement = { rssKiB: minOf(rss), rssSamplesKiB: rss };
  if (args.gcSamples > 0) {
    const reports: GcReport[] = [];
    for (let k = 0; k < args.gcSamples; k++) {
      reports.push(await gcReport(server, gcFile));
      await sleep(500);
    }
    m.gcRssParts = rssParts(server.pid);
    m.gcRssKiB = Math.round(minOf(reports.map((r) => r.rss)) / 1024);
    m.heapUsedKiB = Math.round(minOf(reports.map((r) => r.heapUsed)) / 1024);
    m.heapTotalKiB = Math.round(minOf(reports.map((r) => r.heapTotal)) / 1024);
    m.externalKiB = Math.round(minOf(reports.map((r) => r.external)) / 1024);
  }
  process.stderr.write(`# ${label}: ${JSON.stringify(m)}\n`);
  return m;
}

const kib = (x: number): number => Math.round(x * 1000) / 1000;

/** Per subscription, in KiB, of the difference of one field between two measurements. */
function per(field: 'rssKiB' | 'gcRssKiB' | 'heapUsedKiB', a: Measurement, b: Measurement, n: number): number | null {
  const x = a[field];
  const y = b[field];
  return x === undefined || y === undefined || n <= 0 ? null : kib((y - x) / n);
}

let server: Server | undefined;

async function main(): Promise<void> {
  if (args.runtime !== 'build' && args.runtime !== 'ts-node') throw new Error('--runtime is build or ts-node');
  const hardStop = setTimeout(() => {
    process.stderr.write('memory: hard time limit reached\n');
    if (server?.isRunning()) server.child.kill('SIGKILL');
    process.exit(3);
  }, args.timeout * 1000);
  hardStop.unref();

  const tmp = mkdtempSync(join(tmpdir(), 'ph-bench-memory-'));
  const dataDir = join(tmp, 'data');
  const hook = join(tmp, 'gc-hook.js');
  const gcFile = join(tmp, 'memory.json');
  writeFileSync(hook, HOOK);
  const runtime = prepareRuntime(args.runtime);
  const sipPort = await freePort();
  const httpPort = await freePort();
  const watchers = new Watchers('127.0.0.1', sipPort);
  try {
    server = startServer({
      runtime,
      sipPort,
      httpPort,
      dataDir,
      nodeFlags: args.gcSamples > 0 ? ['--expose-gc', '-r', hook] : [],
      env: { PH_BENCH_MEMORY_FILE: gcFile },
    });
    await waitHealthy(server, httpPort);
    await watchers.open(Math.max(1, args.sockets));
    await sleep(args.baselineSettle * 1000);
    const baseline = await measure('baseline', server, gcFile);

    process.stderr.write(`# subscribing ${args.n1}\n`);
    const load1 = await watchers.subscribe(args.n1, args.window);
    const active1 = watchers.active;
    process.stderr.write(`# ${JSON.stringify(load1)}; settling ${args.settle} s\n`);
    await sleep(args.settle * 1000);
    const after1 = await measure(`after ${active1}`, server, gcFile);

    process.stderr.write(`# subscribing ${args.n2} more\n`);
    const load2 = await watchers.subscribe(args.n2, args.window);
    const active2 = watchers.active;
    process.stderr.write(`# ${JSON.stringify(load2)}; settling ${args.settle} s\n`);
    await sleep(args.settle * 1000);
    const after2 = await measure(`after ${active2}`, server, gcFile);

    // Only now (the endpoint lists every item): what the server holds.
    const serverTotal = await sipSubscriptionTotal(httpPort);
    const added2 = active2 - active1;
    const result = {
      script: 'memory',
      command: `ts-node --transpile-only bench/load/memory.ts ${process.argv.slice(2).join(' ')}`.trim(),
      runtime: runtime.kind,
      transport: 'udp',
      presentities: args.presentities,
      load: [load1, load2],
      active: [active1, active2],
      serverTotal,
      retransmissions: watchers.retransmissions,
      statuses: watchers.statuses,
      unknownRequests: watchers.unknownRequests,
      settleS: args.settle,
      baseline,
      afterN1: after1,
      afterN2: after2,
      /** VmRSS, minimum of samples, no forced GC: the DESIGN.md figures. */
      overallKiB: per('rssKiB', baseline, after2, active2),
      marginalKiB: per('rssKiB', after1, after2, added2),
      overallAtN1KiB: per('rssKiB', baseline, after1, active1),
      /** The same after forced full GCs (RSS), and the JS heap alone (heapUsed after GC). */
      afterGc: {
        overallKiB: per('gcRssKiB', baseline, after2, active2),
        marginalKiB: per('gcRssKiB', after1, after2, added2),
        heapOverallKiB: per('heapUsedKiB', baseline, after2, active2),
        heapMarginalKiB: per('heapUsedKiB', after1, after2, added2),
      },
      target: { overallKiB: 3, marginalKiB: 1 },
    };
    console.log(JSON.stringify(result));
  } finally {
    watchers.close();
    if (server) await stopServer(server);
    runtime.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
