/**
 * Where a new subscription's CPU goes with state held: the server (its own, as in held-state.ts) holds --hold
 * subscriptions, then bench/load/subscribe-rate.ts opens --count new dialogs while a CPU profile of the
 * server's main thread runs (V8's sampling profiler through the inspector, from a preload; src/ untouched).
 * Prints the main thread's CPU time per new subscription (Linux: utime + stime of the main task), the whole
 * process's (other threads: GC helpers, the SQLite writer, libuv), GC pauses, and the functions and kinds of
 * work that took the most of the profile, in µs per subscription.
 *
 *   npx ts-node --transpile-only bench/load/subscribe-profile.ts --hold 50000 --count 20000
 *
 * The profile samples wall-clock time of the thread: on a machine busy with other work, a function during
 * which the thread was descheduled (a system call that wakes another thread or process, e.g. `send`) gets
 * that time too; the CPU-time figures do not. --keep DIR keeps the .cpuprofile (Chrome DevTools opens it).
 */
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, sleep } from './common';
import { prepareOwnServer, runtimeKind, startServer, stopServer, waitHealthy, type Server } from './startup';
import { runLoadClient } from './load-client';
import { SubscriptionHolder } from './subscription-holder';

const args = parseArgs({
  hold: 50000,
  count: 20000,
  window: 300,
  /** Sampling interval of the profiler, µs. */
  interval: 200,
  top: 25,
  serverFlags: '',
  runtime: 'build',
  keep: '',
});

/** SIGWINCH (ignored by default) starts a profile; the next one stops it and writes it with the CPU times. */
const PROFILE_HOOK = `'use strict';
const fs = require('fs');
const inspector = require('inspector');
const { PerformanceObserver, performance } = require('perf_hooks');
const out = process.env.PH_BENCH_PROFILE;
const mainCpuMs = () => {
  try {
    const f = fs.readFileSync('/proc/self/task/' + process.pid + '/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch { return NaN; }
};
let session, t0, cpu0, main0, gcMs = 0, gcCount = 0, gcMax = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) { gcMs += e.duration; gcCount++; gcMax = Math.max(gcMax, e.duration); } })
  .observe({ entryTypes: ['gc'] });
process.on('SIGWINCH', () => {
  if (!session) {
    session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: Number(process.env.PH_BENCH_INTERVAL) });
    session.post('Profiler.start');
    t0 = performance.now(); cpu0 = process.cpuUsage(); main0 = mainCpuMs(); gcMs = 0; gcCount = 0; gcMax = 0;
    return;
  }
  const s = session;
  session = undefined;
  const cpu = process.cpuUsage(cpu0);
  const stats = { wallMs: performance.now() - t0, mainThreadCpuMs: mainCpuMs() - main0,
    processCpuMs: (cpu.user + cpu.system) / 1000, gcMs, gcCount, gcMax };
  s.post('Profiler.stop', (err, r) => {
    fs.writeFileSync(out + '.cpuprofile', JSON.stringify(r ? r.profile : {}));
    fs.writeFileSync(out + '.tmp', JSON.stringify(stats));
    fs.renameSync(out + '.tmp', out + '.json');
    s.disconnect();
  });
});
`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per kind of work (native send, SQLite, GC, src/sip, ...), µs. */
function summarizeProfile(p: Profile): { functions: [string, number][]; kinds: [string, number][]; busy: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const kinds = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    if (!n) continue;
    const us = p.timeDeltas[i + 1] ?? p.timeDeltas[i];
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const file = url.replace(/^.*?\/(src|node_modules)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + us);
    const kind = url
      ? /node_modules\/typeorm/.test(url)
        ? 'TypeORM'
        : /\/src\/sip\//.test(url)
          ? 'src/sip'
          : /\/src\/database\//.test(url)
            ? 'src/database'
            : /\/src\//.test(url)
              ? 'src (other)'
              : 'Node.js internals'
      : functionName === 'run'
        ? 'SQLite statements (native run)'
        : functionName === 'send'
          ? 'sendto (native send)'
          : functionName === 'postMessage'
            ? 'postMessage (native)'
            : functionName;
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { functions: sorted(self).slice(0, args.top), kinds: sorted(kinds).slice(0, 14), busy };
}

let server: Server | undefined;

async function main(): Promise<void> {
  const own = await prepareOwnServer('profile', runtimeKind(args.runtime), PROFILE_HOOK);
  const report = join(own.tmp, 'profile');
  const holder = new SubscriptionHolder({
    host: '127.0.0.1',
    port: own.sipPort,
    presentities: 1000,
    domain: 'example.com',
    expires: 3600,
    t1: 500,
    tag: 'held',
  });
  try {
    server = startServer({
      runtime: own.runtime,
      sipPort: own.sipPort,
      httpPort: own.httpPort,
      dataDir: own.dataDir,
      nodeFlags: [...args.serverFlags.split(/\s+/).filter((f) => f !== ''), '-r', own.hook],
      env: { PH_BENCH_PROFILE: report, PH_BENCH_INTERVAL: String(args.interval) },
    });
    await waitHealthy(server, own.httpPort);
    await holder.open(4);
    const held = await holder.subscribe(args.hold, args.window);
    await sleep(3000);
    process.kill(server.pid, 'SIGWINCH');
    const { result } = await runLoadClient(
      'bench/load/subscribe-rate.ts',
      [
        ...['--host', '127.0.0.1', '--port', String(own.sipPort), '--count', String(args.count)],
        ...['--window', String(args.window), '--duration', '60', '--drain', '35'],
      ],
      300_000,
    );
    process.kill(server.pid, 'SIGWINCH');
    for (let i = 0; i < 300 && !existsSync(`${report}.json`); i++) await sleep(100);
    if (result === undefined) throw new Error('subscribe-rate.ts printed no result');
    const rate = result as { completed: number; subscriptionsPerSec: number };
    const stats = JSON.parse(readFileSync(`${report}.json`, 'utf8')) as Record<string, number>;
    const profile = JSON.parse(readFileSync(`${report}.cpuprofile`, 'utf8')) as Profile;
    if (args.keep) copyFileSync(`${report}.cpuprofile`, join(args.keep, 'subscribe.cpuprofile'));
    const n = Math.max(1, rate.completed);
    const per = (us: number): number => Math.round((us / n) * 10) / 10;
    const { functions, kinds, busy } = summarizeProfile(profile);
    console.log(
      JSON.stringify({
        script: 'subscribe-profile',
        command: `ts-node --transpile-only bench/load/subscribe-profile.ts ${process.argv.slice(2).join(' ')}`.trim(),
        held: held.completed,
        subscribeRate: rate,
        mainThreadCpuUsPerSubscription: per(stats.mainThreadCpuMs * 1000),
        processCpuUsPerSubscription: per(stats.processCpuMs * 1000),
        gcPauseUsPerSubscription: per(stats.gcMs * 1000),
        gcMaxMs: Math.round(stats.gcMax * 10) / 10,
        profiledBusyUsPerSubscription: per(busy),
        kinds: Object.fromEntries(kinds.map(([k, us]) => [k, per(us)])),
        functions: Object.fromEntries(functions.map(([k, us]) => [k, per(us)])),
      }),
    );
  } finally {
    holder.close();
    if (server) await stopServer(server);
    own.runtime.cleanup();
    rmSync(own.tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
