/**
 * Memory per active subscription, overall and marginal (the DESIGN.md figure; target ≤ 3 KiB overall,
 * ≤ 1 KiB marginal).
 *
 *   npx ts-node --transpile-only bench/load/memory.ts --n1 10000 --n2 40000 --presentities 1000
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
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs, sleep } from './common';
import { SubscriptionHolder } from './subscription-holder';
import {
  hardTimeLimit,
  prepareOwnServer,
  runtimeKind,
  signalForReport,
  sipSubscriptionTotal,
  startServer,
  stopServer,
  vmRssKiB,
  waitHealthy,
  type Server,
} from './startup';

const args = parseArgs({
  n1: 10000,
  n2: 40000,
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
  timeout: 480,
  /** Extra node flags for the server, space-separated (e.g. `--max-semi-space-size=4`). */
  serverFlags: '',
  /** Extra environment for the server, space-separated NAME=value pairs (e.g. `MALLOC_ARENA_MAX=2`). */
  serverEnv: '',
});

/** `A=1 B=2` → { A: '1', B: '2' }. */
function envPairs(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(/\s+/).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--server-env: ${pair} is not NAME=value`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Preloaded into the server: on SIGWINCH, two full GCs, then process.memoryUsage() into a file. */
const HOOK = `'use strict';
const fs = require('fs');
const out = process.env.PH_BENCH_MEMORY_FILE;
process.on('SIGWINCH', () => {
  if (typeof globalThis.gc === 'function') { globalThis.gc(); globalThis.gc(); }
  const m = process.memoryUsage();
  const spaces = {};
  for (const s of require('v8').getHeapSpaceStatistics()) {
    spaces[s.space_name] = { sizeKiB: Math.round(s.space_size / 1024), usedKiB: Math.round(s.space_used_size / 1024) };
  }
  fs.writeFileSync(out + '.tmp', JSON.stringify({ pid: process.pid, at: Date.now(), rss: m.rss, heapUsed: m.heapUsed,
    heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, spaces }));
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
  /** v8.getHeapSpaceStatistics(): committed and used KiB per space. */
  spaces: Record<string, { sizeKiB: number; usedKiB: number }>;
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
  /** V8 heap spaces after the last forced GC (committed / used KiB). */
  heapSpaces?: GcReport['spaces'];
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

const minOf = (xs: number[]): number => Math.min(...xs);

function gcReport(server: Server, file: string): Promise<GcReport> {
  return signalForReport<GcReport>(server, 'SIGWINCH', file);
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
    m.heapSpaces = reports[reports.length - 1].spaces;
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
  const kind = runtimeKind(args.runtime);
  hardTimeLimit('memory', args.timeout, () => server);

  const {
    tmp,
    dataDir,
    hook,
    reportFile: gcFile,
    runtime,
    sipPort,
    httpPort,
  } = await prepareOwnServer('memory', kind, HOOK);
  const watchers = new SubscriptionHolder({
    host: '127.0.0.1',
    port: sipPort,
    presentities: args.presentities,
    domain: args.domain,
    expires: args.expires,
    t1: args.t1,
    tag: 'mem',
  });
  try {
    server = startServer({
      runtime,
      sipPort,
      httpPort,
      dataDir,
      nodeFlags: [
        ...args.serverFlags.split(/\s+/).filter((f) => f !== ''),
        ...(args.gcSamples > 0 ? ['--expose-gc', '-r', hook] : []),
      ],
      env: { ...envPairs(args.serverEnv), PH_BENCH_MEMORY_FILE: gcFile },
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
      serverFlags: args.serverFlags,
      serverEnv: args.serverEnv,
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
