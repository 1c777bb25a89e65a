/**
 * Runs SIPp (Debian package `sip-tester`, binary `sipp`) scenarios from tests.
 *
 * Scenarios live in `test/fixtures/sipp/*.xml` and take their variable parts through `-key name value`
 * (`[user]`, `[domain]`, `[presentity]`, `[expires]`, `[note]`); `runSipp` passes defaults for all of them so
 * every shipped scenario runs without extra keys. Statistics come from SIPp's own CSV (`-trace_stat`), and
 * unexpected messages from its error log (`-trace_err`).
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';

export const SIPP_SCENARIOS_DIR = path.resolve(__dirname, '..', 'fixtures', 'sipp');

/** SIPp `-t` modes: UDP or TCP, one socket for all calls (`1`) or one per call (`n`). */
export type SippTransport = 'u1' | 'un' | 't1' | 'tn';

export interface SippOptions {
  /** A scenario name in test/fixtures/sipp (`register`, `subscribe.xml`) or a path to an XML file. */
  scenario: string;
  /** Server as `host:port`, e.g. `127.0.0.1:5060` (loopback only). */
  remote: string;
  transport?: SippTransport;
  /** Number of calls (`-m`); default 1. */
  calls?: number;
  /** Calls started per second (`-r`); default 10. */
  rate?: number;
  /** Maximum simultaneous calls (`-l`). */
  limit?: number;
  /** Scenario keywords (`-key name value`), merged over the defaults. */
  vars?: Record<string, string>;
  /** Local IP used in Via/Contact (`-i`), default 127.0.0.1. */
  localIp?: string;
  /**
   * Local port (`-p`). Default: a port free for both UDP and TCP, picked here, because SIPp itself first tries
   * 5060 and would then collide with a server under test on 5060.
   */
  localPort?: number;
  /** Whole run limit; SIPp gets it as `-timeout` and the process is killed shortly after. Default 30 s. */
  timeoutMs?: number;
  /** Per-message receive timeout (`-recv_timeout`), default 10 s, so a missing answer fails the call. */
  recvTimeoutMs?: number;
  /** Additional raw arguments. */
  extraArgs?: string[];
  /** Binary, default `sipp`. */
  binary?: string;
}

export interface SippStats {
  totalCalls: number;
  successfulCalls: number;
  failedCalls: number;
  retransmissions: number;
  failedUnexpectedMessage: number;
  failedRegexpDoesntMatch: number;
  /** A checked header (e.g. Contact, SIP-ETag) was missing. */
  failedRegexpHdrNotFound: number;
  failedTimeoutOnRecv: number;
  failedMaxUdpRetrans: number;
  failedCallRejected: number;
  outOfCallMessages: number;
  deadCallMessages: number;
  /** Last row of SIPp's statistics CSV, column name → value. */
  raw: Record<string, string>;
}

export interface SippResult {
  /** SIPp's exit code: 0 all calls succeeded, 1 some failed, 97/99 see `sipp -h`; null when killed. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Undefined when SIPp wrote no statistics (e.g. it failed to start). */
  stats?: SippStats;
  /** Content of SIPp's error log (unexpected messages, regexp failures), empty when none. */
  errors: string;
  /** The command line that ran, for failure messages and reports. */
  command: string[];
}

export const SIPP_DEFAULT_VARS: Readonly<Record<string, string>> = {
  user: 'sipp',
  domain: 'example.com',
  presentity: 'alice',
  expires: '300',
  note: 'sipp',
};

/** Resolves a scenario name to an existing XML file. */
export function sippScenarioPath(scenario: string): string {
  if (path.isAbsolute(scenario) || scenario.includes('/')) return path.resolve(scenario);
  return path.join(SIPP_SCENARIOS_DIR, scenario.endsWith('.xml') ? scenario : `${scenario}.xml`);
}

/** The argument list `runSipp` passes (without the binary), for logs and dry runs. */
export function sippArgs(options: SippOptions, workDir: string): string[] {
  const vars = { ...SIPP_DEFAULT_VARS, ...(options.vars ?? {}) };
  const timeoutS = Math.max(1, Math.ceil((options.timeoutMs ?? 30_000) / 1000));
  const args = [
    options.remote,
    '-sf',
    sippScenarioPath(options.scenario),
    '-t',
    options.transport ?? 'u1',
    '-i',
    options.localIp ?? '127.0.0.1',
    '-m',
    String(options.calls ?? 1),
    '-r',
    String(options.rate ?? 10),
    '-nostdin',
    '-timeout',
    `${timeoutS}s`,
    '-timeout_error',
    '-recv_timeout',
    String(options.recvTimeoutMs ?? 10_000),
    '-trace_stat',
    '-stf',
    path.join(workDir, 'stats.csv'),
    '-trace_err',
    '-error_file',
    path.join(workDir, 'errors.log'),
  ];
  if (options.localPort !== undefined) args.push('-p', String(options.localPort));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  for (const [name, value] of Object.entries(vars)) args.push('-key', name, value);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Parses SIPp's `-trace_stat` CSV (`;`-separated, header row first); returns the last row. */
export function parseSippStats(csv: string): SippStats | undefined {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const names = lines[0].split(';');
  const values = lines[lines.length - 1].split(';');
  const raw: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name !== '') raw[name] = values[i] ?? '';
  });
  const num = (name: string): number => {
    const v = raw[`${name}(C)`] ?? raw[name];
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  };
  return {
    totalCalls: num('TotalCallCreated'),
    successfulCalls: num('SuccessfulCall'),
    failedCalls: num('FailedCall'),
    retransmissions: num('Retransmissions'),
    failedUnexpectedMessage: num('FailedUnexpectedMessage'),
    failedRegexpDoesntMatch: num('FailedRegexpDoesntMatch'),
    failedRegexpHdrNotFound: num('FailedRegexpHdrNotFound'),
    failedTimeoutOnRecv: num('FailedTimeoutOnRecv'),
    failedMaxUdpRetrans: num('FailedMaxUDPRetrans'),
    failedCallRejected: num('FailedCallRejected'),
    outOfCallMessages: num('OutOfCallMsgs'),
    deadCallMessages: num('DeadCallMsgs'),
    raw,
  };
}

/**
 * Runs one SIPp scenario to completion (or to its time limit) and collects exit code, output, statistics and
 * the error log. Never rejects for a failed run; rejects only when the binary cannot be started.
 */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const scenarioFile = sippScenarioPath(options.scenario);
  if (!existsSync(scenarioFile)) throw new Error(`sipp scenario not found: ${scenarioFile}`);
  const workDir = mkdtempSync(path.join(tmpdir(), 'sipp-'));
  const localPort = options.localPort ?? (await freeLocalPort(options.localIp ?? '127.0.0.1'));
  const args = sippArgs({ ...options, localPort }, workDir);
  const binary = options.binary ?? 'sipp';
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    const run = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      out: string;
      err: string;
      timedOut: boolean;
    }>((resolve, reject) => {
      const child = spawn(binary, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let timedOut = false;
      child.stdout.on('data', (d: Buffer) => {
        if (out.length < 1_000_000) out += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        if (err.length < 1_000_000) err += d.toString('utf8');
      });
      // SIPp honours -timeout itself; this is the backstop should it hang.
      const killer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }, timeoutMs + 5000);
      child.once('error', (e) => {
        clearTimeout(killer);
        reject(e);
      });
      child.once('close', (code, signal) => {
        clearTimeout(killer);
        resolve({ code, signal, out, err, timedOut });
      });
    });
    const statsFile = path.join(workDir, 'stats.csv');
    const stats = existsSync(statsFile) ? parseSippStats(readFileSync(statsFile, 'latin1')) : undefined;
    const errors = readdirSync(workDir)
      .filter((f) => f.startsWith('errors'))
      .map((f) => readFileSync(path.join(workDir, f), 'latin1'))
      .join('\n');
    return {
      exitCode: run.code,
      signal: run.signal,
      timedOut: run.timedOut,
      stdout: run.out,
      stderr: run.err,
      stats,
      errors,
      command: [binary, ...args],
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** A port number currently free for both UDP and TCP on `host` (small race between this and SIPp's bind). */
export async function freeLocalPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const address = srv.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        srv.close(() => {
          resolve(p);
        });
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      sock.once('error', () => {
        sock.close();
        resolve(false);
      });
      sock.bind(port, host, () => {
        sock.close(() => {
          resolve(true);
        });
      });
    });
    if (udpFree) return port;
  }
  throw new Error('no free local port found for sipp');
}
