/**
 * `npm run bench`: the figures of DESIGN.md's table, each with the command that produced it.
 * Builds nothing: runs the parser benchmark in this process's child, starts the server (src/main.ts on a
 * fresh SQLite file, free ports on 127.0.0.1), and drives it with the load clients in bench/load/ over UDP
 * (and the browser WebSocket for fan-out). Loopback only; every client is bounded in count and time.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/utils/test-app';
import { SERVER_NODE_FLAGS } from './load/startup';

const root = join(__dirname, '..');
const tsNode = [join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only'];

const summary: string[] = [];
/** The command of the last run(), for the summary table's last column. */
let lastCommand = '';

/** One row of the closing table: figure, measured, target (DESIGN.md), command. */
function row(figure: string, measured: string, target: string, command = lastCommand): void {
  summary.push(`| ${figure} | ${measured} | ${target} | \`${command}\` |`);
}

/** The JSON object a load client printed last, or undefined. */
function lastJson(out: string): Record<string, unknown> | undefined {
  const line = out
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  try {
    return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function pick(o: unknown, ...path: string[]): unknown {
  let v: unknown = o;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function run(label: string, script: string, args: string[], timeoutMs = 180_000): string {
  const command = `ts-node --transpile-only ${script} ${args.join(' ')}`.trim();
  lastCommand = command;
  process.stdout.write(`\n## ${label}\n$ ${command}\n`);
  const r = spawnSync(process.execPath, [...tsNode, join(root, script), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const out = `${r.stdout}${r.stderr}`.trim();
  process.stdout.write(`${out}\n`);
  return out;
}

async function waitHealthy(httpPort: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/health`)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

/** A server of the benchmarks' own: a fresh data directory, free ports, started with ts-node. */
interface OwnServer {
  readonly sipPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** Starts an {@link OwnServer} with `env` on top of the defaults and waits until it is healthy. */
async function startOwnServer(env: Record<string, string> = {}): Promise<OwnServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ph-bench-'));
  const sipPort = await freePort();
  const httpPort = await freePort();
  const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...tsNode, join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      SIP_HOST: '127.0.0.1',
      SIP_PORT: String(sipPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'error',
      DB_URL: '',
      // The figures without authentication; the digest run sets it on.
      AUTH_ENABLED: 'false',
      ...env,
    },
    stdio: 'inherit',
  });
  const stop = async (): Promise<void> => {
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(httpPort);
  } catch (e) {
    await stop();
    throw e;
  }
  return { sipPort, httpPort, dataDir, stop };
}

/** Runs `fn` against an {@link OwnServer} started with `env`, stopped afterwards. */
async function withOwnServer(env: Record<string, string>, fn: (server: OwnServer) => Promise<void>): Promise<void> {
  const server = await startOwnServer(env);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/**
 * REGISTER with SIP digest on (auth.enabled, own server): each REGISTER is challenged (401) and sent again with
 * credentials, as a phone registering afresh does; one user that may register every AoR of the run
 * (auth.registerOthers). Rows beside the REGISTER rate without digest.
 */
async function registerWithDigest(): Promise<void> {
  const env = {
    AUTH_ENABLED: 'true',
    AUTH_BOOTSTRAP_ADMIN_KEY: 'false',
    AUTH_REGISTER_OTHERS: 'sip:bench@example.com',
  };
  await withOwnServer(env, async ({ sipPort, httpPort, dataDir }) => {
    // The REST API needs an admin key with auth on: made the way scripts make one (npm run key:create).
    const admin = execFileSync(
      process.execPath,
      [...tsNode, join(root, 'src/access/key-create.ts'), '--role', 'admin'],
      {
        cwd: root,
        env: { ...process.env, DATA_DIR: dataDir, DB_URL: '' },
        encoding: 'utf8',
      },
    ).trim();
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/subscribers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ username: 'bench', domain: 'example.com', password: 'bench-secret' }),
    });
    if (res.status !== 201) throw new Error(`creating the bench user: ${res.status} ${await res.text()}`);
    for (const algorithm of ['SHA-256', 'MD5']) {
      const out = lastJson(
        run(`REGISTER with digest ${algorithm} (401, then 200), own server`, 'bench/load/register-rate.ts', [
          ...['--host', '127.0.0.1', '--port', String(sipPort), '--count', '20000', '--window', '300'],
          ...['--duration', '60', '--digest', 'bench:bench-secret', '--digest-algorithm', algorithm],
        ]),
      );
      row(
        `REGISTER with digest ${algorithm} (401 + REGISTER with credentials → 200)`,
        `${String(pick(out, 'registersPerSec'))}/s (first REGISTER→200 p50 ${String(pick(out, 'registerTo200Ms', 'p50'))} ms, p99 ${String(pick(out, 'registerTo200Ms', 'p99'))} ms)`,
        '— (compare: REGISTER without digest)',
      );
    }
  });
}

/** Summary rows of bench/load/held-state.ts: each phase's figures and the server's GC pauses in it. */
function heldState(out: string): void {
  const held = lastJson(out);
  const phases = (pick(held, 'phases') ?? []) as unknown[];
  const find = (name: string): unknown => phases.find((p) => pick(p, 'phase') === name);
  const gc = (p: unknown): string =>
    `GC pauses ${String(pick(p, 'gc', 'count'))}, gc_pause_p99_ms ${String(pick(p, 'gc', 'p99Ms'))}, gc_pause_max_ms ${String(pick(p, 'gc', 'maxMs'))}`;
  const n = Number(pick(held, 'held')).toLocaleString('en-US');
  const sub = find('subscribe');
  row(
    `SUBSCRIBE → 2xx → first NOTIFY answered, ${n} held`,
    `${String(pick(sub, 'result', 'subscriptionsPerSec'))}/s (p50 ${String(pick(sub, 'result', 'subscribeToNotifyMs', 'p50'))} ms, p99 ${String(pick(sub, 'result', 'subscribeToNotifyMs', 'p99'))} ms); ${gc(sub)}`,
    '≥ 16,000/s, p99 ≤ 50 ms',
  );
  const atRate = find('subscribe-at-rate');
  if (atRate !== undefined) {
    const r = (...path: string[]): string => String(pick(atRate, 'result', ...path));
    row(
      `SUBSCRIBE → 2xx → first NOTIFY answered, offered at ${Number(r('rate')).toLocaleString('en-US')}/s, ${n} held`,
      `${r('subscriptionsPerSec')}/s completed of ${r('started')} (failed ${r('failed')}, timed out ${r('timedOut')}); p50 ${r('subscribeToNotifyMs', 'p50')} ms, p99 ${r('subscribeToNotifyMs', 'p99')} ms; ${gc(atRate)}`,
      '≥ 8,000/s with p99 ≤ 50 ms (issue 13 floor)',
    );
  }
  const fanoutRow = (name: string, figure: string): void => {
    const f = find(name);
    if (f === undefined) return;
    row(
      figure,
      `${String(pick(f, 'result', 'sip', 'notifiesPerSec'))} NOTIFY/s, PUBLISH→NOTIFY p50 ${String(pick(f, 'result', 'sip', 'publishToNotifyMs', 'p50'))} / p99 ${String(pick(f, 'result', 'sip', 'publishToNotifyMs', 'p99'))} ms; PUBLISH→2xx p50 ${String(pick(f, 'result', 'publishToAnswerMs', 'p50'))} / p99 ${String(pick(f, 'result', 'publishToAnswerMs', 'p99'))} ms; ${gc(f)}; VmRSS ${String(pick(f, 'rssKiBAfter'))} KiB`,
      '≥ 32,000/s; p50 ≤ 5 ms, p99 ≤ 50 ms; PUBLISH answered ≤ 50 ms',
    );
  };
  fanoutRow('fanout', `PUBLISH fan-out to 200 SIP watchers, ${n} held`);
  const peak = find('peak');
  if (peak !== undefined) {
    row(
      'SUBSCRIBE peak past capacity',
      `${String(pick(peak, 'result', 'started'))} started at ${String(pick(peak, 'result', 'rate'))}/s: ${String(pick(peak, 'result', 'completed'))} completed, ${String(pick(peak, 'result', 'failed'))} failed, ${String(pick(peak, 'result', 'timedOut'))} timed out, statuses ${JSON.stringify(pick(peak, 'result', 'statuses'))}; ${gc(peak)}`,
      'sheds with 503, recovers ≤ 2 s',
    );
  }
  fanoutRow('fanout-after-peak', `PUBLISH fan-out to 200 SIP watchers, ${n} held, after the peak`);
}

async function main(): Promise<void> {
  const parser = run('SIP parser, typical SUBSCRIBE, one core', 'bench/parser.bench.ts', []);
  row('SIP parser, typical SUBSCRIBE, one core', `${/parser: ([\d,]+)/.exec(parser)?.[1] ?? '?'} msgs/s`, '≥ 400,000');
  const digest = run('SIP digest per request, one core', 'bench/digest.bench.ts', []);
  const rate = (re: RegExp): string => re.exec(digest)?.slice(1).join('/s, ') ?? '?';
  row(
    'SIP digest per request, one core (HA1 cached)',
    `SHA-256 ${rate(/SHA-256 verification[^:]*: ([\d,]+) requests\/s, ([\d.]+ µs) each/)}; MD5 ${rate(/MD5 verification[^:]*: ([\d,]+) requests\/s, ([\d.]+ µs) each/)}; challenge ${rate(/challenge[^:]*: ([\d,]+) requests\/s, ([\d.]+ µs) each/)}`,
    '—',
  );
  const own = await startOwnServer();
  const { sipPort, httpPort } = own;
  try {
    const target = ['--host', '127.0.0.1', '--port', String(sipPort)];
    const regRate = run('REGISTER rate (200 received)', 'bench/load/register-rate.ts', [
      ...target,
      '--count',
      '20000',
      '--window',
      '300',
      '--duration',
      '60',
    ]);
    row(
      'REGISTER (200 received)',
      `${String(pick(lastJson(regRate), 'registersPerSec'))}/s`,
      '— (with a reg NOTIFY each: the reg row)',
    );
    await registerWithDigest();
    // Requests that do not fit the schema are refused before the commit batch: the valid ones keep their pace.
    const mixedArgs = ['--count', '15000', '--rate', '1000', '--window', '2000', '--duration', '30'];
    const clean = lastJson(run('REGISTER at 1,000/s', 'bench/load/register-rate.ts', [...target, ...mixedArgs]));
    const mixed = lastJson(
      run('REGISTER at 1,000/s with 50/s that do not fit the schema', 'bench/load/register-rate.ts', [
        ...target,
        ...mixedArgs,
        '--bad-rate',
        '50',
      ]),
    );
    row(
      'REGISTER at 1,000/s, + 50/s oversize (400)',
      `p50 ${String(pick(mixed, 'registerTo200Ms', 'p50'))} ms, p99 ${String(pick(mixed, 'registerTo200Ms', 'p99'))} ms (alone: p50 ${String(pick(clean, 'registerTo200Ms', 'p50'))} ms, p99 ${String(pick(clean, 'registerTo200Ms', 'p99'))} ms); bad answered ${JSON.stringify(pick(mixed, 'badStatuses'))}`,
      'valid ones unaffected',
    );
    const reg = lastJson(
      run('REGISTER with one reg watcher per AoR (2,000 AoRs)', 'bench/load/reg-register.ts', [
        ...target,
        '--aors',
        '2000',
        '--count',
        '20000',
        '--window',
        '200',
      ]),
    );
    row(
      'REGISTER, each with a reg NOTIFY (2,000 AoRs, one reg watcher each)',
      `${String(pick(reg, 'registersPerSec'))} REGISTER/s; REGISTER→NOTIFY p50 ${String(pick(reg, 'registerToNotifyMs', 'p50'))} ms, p99 ${String(pick(reg, 'registerToNotifyMs', 'p99'))} ms; ${String(pick(reg, 'notifies'))} NOTIFYs for ${String(pick(reg, 'completed'))} REGISTERs`,
      '≥ 6,000/s, REGISTER→NOTIFY p50 ≤ 5 ms',
    );
    // The same offered at the target rate: the delay at that load, not the queueing of a 200-wide window.
    const regAtRate = lastJson(
      run('REGISTER with one reg watcher per AoR, offered at 6,000/s', 'bench/load/reg-register.ts', [
        ...target,
        '--aors',
        '2000',
        '--count',
        '30000',
        '--rate',
        '6000',
        '--window',
        '2000',
      ]),
    );
    row(
      'REGISTER, each with a reg NOTIFY, offered at 6,000/s (2,000 AoRs)',
      `${String(pick(regAtRate, 'registersPerSec'))} REGISTER/s completed of ${String(pick(regAtRate, 'started'))} (failed ${String(pick(regAtRate, 'failed'))}, timed out ${String(pick(regAtRate, 'timedOut'))}); REGISTER→NOTIFY p50 ${String(pick(regAtRate, 'registerToNotifyMs', 'p50'))} ms, p99 ${String(pick(regAtRate, 'registerToNotifyMs', 'p99'))} ms`,
      'REGISTER→NOTIFY p50 ≤ 5 ms at 6,000/s',
    );
    const sub = run('SUBSCRIBE -> 2xx -> first NOTIFY answered, new dialogs', 'bench/load/subscribe-rate.ts', [
      ...target,
      '--count',
      '20000',
      '--window',
      '300',
      '--duration',
      '60',
    ]);
    const subJson = lastJson(sub);
    row(
      'SUBSCRIBE → 2xx → first NOTIFY answered, fresh server',
      `${String(pick(subJson, 'subscriptionsPerSec'))}/s (p50 ${String(pick(subJson, 'subscribeToNotifyMs', 'p50'))} ms, p99 ${String(pick(subJson, 'subscribeToNotifyMs', 'p99'))} ms)`,
      '≥ 16,000/s, p99 ≤ 50 ms (with 50,000 held)',
    );
    const f200 = run('PUBLISH fan-out to 200 SIP watchers (DESIGN.md target)', 'bench/load/fanout.ts', [
      ...target,
      '--http-port',
      String(httpPort),
      '--sip-watchers',
      '200',
      '--ws-watchers',
      '0',
      '--publishes',
      '100',
    ]);
    const f200Json = lastJson(f200);
    row(
      'PUBLISH fan-out to 200 SIP watchers, fresh server',
      `${String(pick(f200Json, 'sip', 'notifiesPerSec'))} NOTIFY/s, p50 ${String(pick(f200Json, 'sip', 'publishToNotifyMs', 'p50'))} ms, p99 ${String(pick(f200Json, 'sip', 'publishToNotifyMs', 'p99'))} ms; PUBLISH→2xx p50 ${String(pick(f200Json, 'publishToAnswerMs', 'p50'))} / p99 ${String(pick(f200Json, 'publishToAnswerMs', 'p99'))} ms`,
      '≥ 32,000/s, p50 ≤ 5 ms, p99 ≤ 50 ms',
    );
    const f2000 = run('PUBLISH fan-out to 1,000 SIP + 1,000 WS watchers', 'bench/load/fanout.ts', [
      ...target,
      '--http-port',
      String(httpPort),
      '--sip-watchers',
      '1000',
      '--ws-watchers',
      '1000',
      '--publishes',
      '30',
    ]);
    const f2000Json = lastJson(f2000);
    row(
      'PUBLISH fan-out to 1,000 SIP + 1,000 WS watchers',
      `SIP ${String(pick(f2000Json, 'sip', 'notifiesPerSec'))} NOTIFY/s, p50 ${String(pick(f2000Json, 'sip', 'publishToNotifyMs', 'p50'))} / p99 ${String(pick(f2000Json, 'sip', 'publishToNotifyMs', 'p99'))} ms; WS ${String(pick(f2000Json, 'ws', 'pushesPerSec'))} state/s, p50 ${String(pick(f2000Json, 'ws', 'publishToStateMs', 'p50'))} / p99 ${String(pick(f2000Json, 'ws', 'publishToStateMs', 'p99'))} ms`,
      '—',
    );
    // These two start servers of their own (fresh data directories, free ports).
    const mem = lastJson(
      run(
        'Memory per active subscription (own server)',
        'bench/load/memory.ts',
        ['--n1', '10000', '--n2', '40000', '--timeout', '480'],
        540_000,
      ),
    );
    row(
      'memory per active subscription (VmRSS)',
      `${String(pick(mem, 'overallKiB'))} KiB overall, ${String(pick(mem, 'marginalKiB'))} KiB marginal (after GC: ${String(pick(mem, 'afterGc', 'overallKiB'))} / ${String(pick(mem, 'afterGc', 'marginalKiB'))} KiB; JS heap after GC: ${String(pick(mem, 'afterGc', 'heapOverallKiB'))} / ${String(pick(mem, 'afterGc', 'heapMarginalKiB'))} KiB)`,
      '≤ 3 KiB overall, ≤ 1 KiB marginal',
    );
    const start = lastJson(run('Start with 100,000 stored subscriptions (own server)', 'bench/load/startup.ts', []));
    row(
      'start with 100,000 stored subscriptions to serving',
      `${String(pick(start, 'servingMs'))} ms (/health ${String(pick(start, 'healthMs'))} ms, OPTIONS ${String(pick(start, 'optionsMs'))} ms, restored ${String(pick(start, 'restoredTotal'))})`,
      '≤ 5,000 ms',
    );
    // ---- state held and after a load peak (own server; bench/load/held-state.ts) ----
    heldState(
      run(
        'State held: 50,000 subscriptions, then a SUBSCRIBE peak (own server)',
        'bench/load/held-state.ts',
        [],
        600_000,
      ),
    );
    // ---- end of the state-held block ----
    const flood = lastJson(
      run(
        'Flood at 3x the sustainable PUBLISH and SUBSCRIBE rates (own servers)',
        'bench/load/overload.ts',
        [],
        600_000,
      ),
    );
    const floods = (pick(flood, 'floods') ?? []) as Record<string, unknown>[];
    const perKind = floods
      .map(
        (f) =>
          `${String(f.kind)} at ${String(f.ratePerSec)}/s: ${String(f.answeredFraction)} answered, OPTIONS ${String(f.optionsFraction)}, recovery ${String(f.recoveryMs)} ms, RSS peak ${String(f.peakOverIdle)}× idle`,
      )
      .join('; ');
    row('flood at 3× capacity', perKind, '≥ 0.9 answered, OPTIONS ≥ 0.99, RSS ≤ 2× idle, recovery ≤ 2,000 ms');
    process.stdout.write(
      `\n## Summary\n| figure | measured | target | command |\n|---|---|---|---|\n${summary.join('\n')}\n`,
    );
  } finally {
    await own.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
