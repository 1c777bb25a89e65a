/**
 * The server as users run it: SUBSCRIBE rate and PUBLISH fan-out with --hold subscriptions already held, and
 * fan-out again after a SUBSCRIBE peak past capacity, with the server's GC pauses and RSS in each phase (the
 * DESIGN.md rows "50,000 held" and "with state held and after a load peak").
 *
 *   npx ts-node --transpile-only bench/load/held-state.ts --hold 50000 --peak-rate 12000 --peak-seconds 4
 *
 * One server process (startup.ts: a tsc build in a temporary directory, fresh SQLite, free loopback ports),
 * with a tiny preload (startup.ts's GC_PAUSE_HOOK, src/ untouched) that reports the GC pauses between two
 * SIGURG. Phases:
 *   hold       --hold subscriptions (Expires --expires, over --presentities presentities, every NOTIFY
 *              answered), opened by this process and kept until the end;
 *   subscribe  bench/load/subscribe-rate.ts --count --sub-count (new dialogs, window --window);
 *   subscribe-at-rate  the same offered at --sub-rate/s (open loop) for --sub-rate-seconds: the latency at a
 *              given load rather than the window's queueing (0 skips it);
 *   fanout     bench/load/fanout.ts, --watchers SIP watchers, --publishes PUBLISH one after another;
 *   peak       bench/load/subscribe-rate.ts open loop at --peak-rate/s for --peak-seconds (well past what the
 *              server sustains), then --peak-settle seconds of quiet;
 *   fanout after the peak, as before.
 * The load clients are separate processes, as in `npm run bench`; each phase's figures, GC pauses and VmRSS
 * are printed. --peak-rate 0 skips the peak. Loopback only; bounded by --timeout seconds. Prints one JSON line.
 */
import { rmSync } from 'node:fs';
import { parseArgs, sleep } from './common';
import {
  GC_PAUSE_HOOK,
  hardTimeLimit,
  prepareOwnServer,
  runtimeKind,
  signalForReport,
  startServer,
  stopServer,
  vmRssKiB,
  waitHealthy,
  type Server,
} from './startup';
import { runLoadClient } from './load-client';
import { SubscriptionHolder } from './subscription-holder';

const args = parseArgs({
  hold: 50000,
  presentities: 1000,
  domain: 'example.com',
  expires: 3600,
  /** Outstanding SUBSCRIBEs while opening the held ones and in the SUBSCRIBE-rate phase. */
  window: 300,
  /** Seconds of quiet after the held subscriptions are open. */
  settle: 5,
  subCount: 20000,
  /** SUBSCRIBEs per second offered (open loop) for --sub-rate-seconds after the windowed phase (0: none). */
  subRate: 8000,
  subRateSeconds: 5,
  watchers: 200,
  publishes: 100,
  /** SUBSCRIBEs per second in the peak (0: no peak phase). */
  peakRate: 12000,
  peakSeconds: 4,
  /** Seconds of quiet after the peak before fan-out is measured again. */
  peakSettle: 10,
  /** Extra node flags for the server, space-separated. */
  serverFlags: '',
  /** `build` (tsc into a temporary directory, then node) or `ts-node`. */
  runtime: 'build',
  t1: 500,
  /** Hard limit for the whole run, seconds. */
  timeout: 600,
});

interface GcPauses {
  pid: number;
  at: number;
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  totalMs: number;
  byKind: Record<string, { count: number; maxMs: number; totalMs: number }>;
  rss: number;
  heapUsed: number;
}

interface Phase {
  phase: string;
  command?: string;
  result?: unknown;
  elapsedMs: number;
  gc: Omit<GcPauses, 'pid' | 'at' | 'rss' | 'heapUsed'> & { durationMs: number };
  rssKiBAfter: number;
  heapUsedKiBAfter: number;
}

const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);

let server: Server | undefined;

async function main(): Promise<void> {
  const kind = runtimeKind(args.runtime);
  hardTimeLimit('held-state', args.timeout, () => server);

  const {
    tmp,
    dataDir,
    hook,
    reportFile: gcFile,
    runtime,
    sipPort,
    httpPort,
  } = await prepareOwnServer('held', kind, GC_PAUSE_HOOK);
  const holder = new SubscriptionHolder({
    host: '127.0.0.1',
    port: sipPort,
    presentities: args.presentities,
    domain: args.domain,
    expires: args.expires,
    t1: args.t1,
    tag: 'held',
  });
  const phases: Phase[] = [];
  try {
    const srv = startServer({
      runtime,
      sipPort,
      httpPort,
      dataDir,
      nodeFlags: [...args.serverFlags.split(/\s+/).filter((f) => f !== ''), '-r', hook],
      env: { PH_BENCH_GC_FILE: gcFile },
    });
    server = srv;
    await waitHealthy(srv, httpPort);
    await holder.open(4);
    const baselineRssKiB = vmRssKiB(srv.pid);

    /** Runs `body` between two GC reports and records the phase. */
    const phase = async (name: string, body: () => Promise<{ command?: string; result?: unknown }>): Promise<void> => {
      await signalForReport<GcPauses>(srv, 'SIGURG', gcFile);
      const t = Date.now();
      const { command, result } = await body();
      const gc = await signalForReport<GcPauses>(srv, 'SIGURG', gcFile);
      const p: Phase = {
        phase: name,
        command,
        result,
        elapsedMs: Date.now() - t,
        gc: {
          durationMs: gc.at - t,
          count: gc.count,
          p50Ms: round(gc.p50Ms),
          p99Ms: round(gc.p99Ms),
          maxMs: round(gc.maxMs),
          totalMs: round(gc.totalMs) ?? 0,
          byKind: gc.byKind,
        },
        rssKiBAfter: vmRssKiB(srv.pid),
        heapUsedKiBAfter: Math.round(gc.heapUsed / 1024),
      };
      process.stderr.write(`# ${name}: gc ${JSON.stringify(p.gc)}, VmRSS ${p.rssKiBAfter} KiB\n`);
      const answer = (result as { publishToAnswerMs?: { p50: number | null; p99: number | null } } | undefined)
        ?.publishToAnswerMs;
      const figures = [
        `phase=${name}`,
        `gc_pause_p99_ms=${String(p.gc.p99Ms)}`,
        `gc_pause_max_ms=${String(p.gc.maxMs)}`,
        ...(answer
          ? [`publish_answer_p50_ms=${String(answer.p50)}`, `publish_answer_p99_ms=${String(answer.p99)}`]
          : []),
        `vmrss_kib=${p.rssKiBAfter}`,
      ];
      process.stderr.write(`${figures.join(' ')}\n`);
      phases.push(p);
    };

    const target = ['--host', '127.0.0.1', '--port', String(sipPort)];
    const subscribeArgs = [...target, '--count', String(args.subCount), '--window', String(args.window)];
    const fanoutArgs = [
      ...target,
      '--http-port',
      String(httpPort),
      '--sip-watchers',
      String(args.watchers),
      '--ws-watchers',
      '0',
      '--publishes',
      String(args.publishes),
    ];

    /** SUBSCRIBEs offered at `rate`/s for `seconds` (open loop: the window never caps them). */
    const openLoop = (rate: number, seconds: number, durationS: number, drainS: number) => {
      const count = String(Math.round(rate * seconds));
      return runLoadClient(
        'bench/load/subscribe-rate.ts',
        [
          ...target,
          '--count',
          count,
          '--rate',
          String(rate),
          '--window',
          count,
          '--duration',
          String(durationS),
          '--drain',
          String(drainS),
        ],
        150_000,
      );
    };

    await phase('hold', async () => {
      const result = await holder.subscribe(args.hold, args.window);
      await sleep(args.settle * 1000);
      return { result: { ...result, active: holder.active, retransmissions: holder.retransmissions } };
    });
    await phase('subscribe', () =>
      runLoadClient('bench/load/subscribe-rate.ts', [...subscribeArgs, '--duration', '60', '--drain', '35'], 150_000),
    );
    if (args.subRate > 0) {
      await sleep(2000);
      await phase('subscribe-at-rate', () => openLoop(args.subRate, args.subRateSeconds, args.subRateSeconds + 5, 35));
    }
    await phase('fanout', () => runLoadClient('bench/load/fanout.ts', fanoutArgs, 150_000));
    if (args.peakRate > 0) {
      await phase('peak', async () => {
        const r = await openLoop(args.peakRate, args.peakSeconds, args.peakSeconds, 40);
        await sleep(args.peakSettle * 1000);
        return r;
      });
      await phase('fanout-after-peak', () => runLoadClient('bench/load/fanout.ts', fanoutArgs, 150_000));
    }
    console.log(
      JSON.stringify({
        script: 'held-state',
        command: `ts-node --transpile-only bench/load/held-state.ts ${process.argv.slice(2).join(' ')}`.trim(),
        runtime: runtime.kind,
        serverFlags: args.serverFlags,
        hold: args.hold,
        held: holder.active,
        holderNotifiesAnswered: holder.notifiesAnswered,
        baselineRssKiB,
        phases,
      }),
    );
  } finally {
    holder.close();
    if (server) await stopServer(server);
    runtime.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
