/**
 * Start-up with stored subscriptions: the DESIGN.md figure "start with 100,000 stored subscriptions to
 * serving" (target ≤ 5 s).
 *
 *   npx ts-node --transpile-only bench/load/startup.ts --rows 100000 --runs 2
 *
 * Starts the server once on a fresh SQLite data directory to create the schema, stops it, inserts --rows
 * realistic SIP presence subscriptions into `active_watchers` in one transaction (dialogs as the server
 * stores them, remote targets on a local UDP sink that answers nothing), then starts the server --runs
 * times on that data and measures, from spawning the process, the first GET /health 200 and the first
 * 200 to a SIP OPTIONS over UDP (one sent every --interval ms). Then it checks that the subscriptions were
 * restored: an in-dialog re-SUBSCRIBE of one stored dialog gets 200 and its NOTIFY, and
 * GET /api/subscriptions?kind=sip reports --rows. `--cpu-prof` adds a profiled start and prints the
 * functions and packages that took the most CPU time until serving.
 *
 * The server runs as `node <build>/src/main.js` from a build made with tsc into a temporary directory
 * (--runtime build, as in production), or through ts-node (--runtime ts-node, which adds the transpilation
 * of every module to the start-up time). Loopback only. Prints one JSON line.
 *
 * Also exports the server-process helpers that bench/load/memory.ts uses.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { callIdOf, methodOf, now, parseArgs, responseFor, runId, sleep, statusOf } from './common';
import { TUNED_NODE_FLAGS } from '../../src/common/node-flags';

export const root = join(__dirname, '..', '..');

// ---------------------------------------------------------------------------------------------------------
// Server process helpers (shared with memory.ts)

export type Runtime = 'build' | 'ts-node';

/** How to run the server: the node arguments before the flags' position, and extra environment. */
export interface ServerRuntime {
  readonly kind: Runtime;
  /** Script and its arguments, after node's own flags. */
  readonly script: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Milliseconds the build took (0 for ts-node). */
  readonly buildMs: number;
  cleanup(): void;
}

/** A port free on both UDP and TCP at 127.0.0.1 (the server binds SIP on both). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => {
          resolve(p);
        });
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => {
        resolve(false);
      });
      s.bind(port, '127.0.0.1', () => {
        s.close(() => {
          resolve(true);
        });
      });
    });
    if (udpFree) return port;
  }
}

/**
 * `build`: compiles src/ and migrations/ with tsc (tsconfig.build.json) into a temporary directory, so that
 * the shared dist/ is left alone; modules resolve through NODE_PATH. `ts-node`: src/main.ts transpiled on
 * load, as `npm run bench` runs it.
 */
export function prepareRuntime(kind: Runtime): ServerRuntime {
  if (kind === 'ts-node') {
    return {
      kind,
      script: [join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', join(root, 'src/main.ts')],
      env: {},
      buildMs: 0,
      cleanup: () => undefined,
    };
  }
  const out = mkdtempSync(join(tmpdir(), 'ph-bench-build-'));
  const t = now();
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(root, 'tsconfig.build.json'),
      '--outDir',
      out,
      '--sourceMap',
      'false',
      '--incremental',
      'false',
      '--noEmitOnError',
      'false',
    ],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  const main = join(out, 'src/main.js');
  if (!existsSync(main)) {
    rmSync(out, { recursive: true, force: true });
    throw new Error(`build failed (tsc exit ${String(r.status)}): ${r.stdout}${r.stderr}`.slice(0, 2000));
  }
  if (r.status !== 0) process.stderr.write(`# tsc reported errors (emitted anyway):\n${r.stdout.slice(0, 1000)}\n`);
  return {
    kind,
    script: [main],
    env: { NODE_PATH: join(root, 'node_modules') },
    buildMs: Math.round(now() - t),
    cleanup: () => {
      rmSync(out, { recursive: true, force: true });
    },
  };
}

/**
 * Node flags the server runs with, as package.json's `start` and `start:prod` give them: the old generation
 * grows by 25 % after a full GC instead of V8's default factor of up to 4 (README, "Memory"), so garbage left
 * by a load peak is collected sooner; one V8 background thread instead of four, so that concurrent marking and
 * sweeping do not take the CPU from the event loop (README, "Twelfth pass"); no memory reducer, whose
 * collections in an idle spell drop the maps the request path's optimized code depends on, so that the next
 * load ran on unoptimized code while some 150 functions were compiled again (README, "Sixteenth pass"). Flags
 * passed in {@link ServerOptions.nodeFlags} come after, so they win.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=25', ...TUNED_NODE_FLAGS];

export interface ServerOptions {
  readonly runtime: ServerRuntime;
  readonly sipPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  /** Node flags after {@link SERVER_NODE_FLAGS} (`--expose-gc`, `--cpu-prof`, `-r hook.js`). */
  readonly nodeFlags?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface Server {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<string>;
  isRunning(): boolean;
}

/** Spawns the server; its output goes to this process's stderr, so stdout keeps only the JSON result. */
export function startServer(o: ServerOptions): Server {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...(o.nodeFlags ?? []), ...o.runtime.script], {
    cwd: root,
    env: {
      ...process.env,
      // Benchmarks measure the open server unless a run asks for authentication.
      AUTH_ENABLED: 'false',
      ...o.runtime.env,
      ...o.env,
      DATA_DIR: o.dataDir,
      DB_URL: '',
      SIP_HOST: '127.0.0.1',
      SIP_PORT: String(o.sipPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(o.httpPort),
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 2, 2],
  });
  if (child.pid === undefined) throw new Error('server did not spawn');
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(signal ?? String(code));
    });
  });
  return { child, pid: child.pid, exited, isRunning: () => running };
}

/** Polls GET /health every `intervalMs` until 200; resolves with performance.now() of that answer. */
export async function waitHealthy(
  server: Server,
  httpPort: number,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<number> {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    if (!server.isRunning()) throw new Error(`server exited (${await server.exited}) before it was healthy`);
    const next = now() + intervalMs;
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return now();
    } catch {
      // not listening yet
    }
    const wait = next - now();
    if (wait > 0) await sleep(wait);
  }
  throw new Error(`server not healthy within ${timeoutMs} ms`);
}

/**
 * Preloaded into the server (`node -r <file>`; src/ is not touched): a PerformanceObserver on `gc` entries.
 * On SIGURG (ignored by default; Nest's shutdown hooks take SIGUSR2) it writes the pauses seen since the previous SIGURG (count, p50/p99/max, total, by kind) and
 * process.memoryUsage() to $PH_BENCH_GC_FILE, and starts counting afresh.
 */
export const GC_PAUSE_HOOK = `'use strict';
const fs = require('fs');
const { PerformanceObserver, constants } = require('perf_hooks');
const out = process.env.PH_BENCH_GC_FILE;
const KINDS = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
let pauses = [];
let byKind = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    pauses.push(e.duration);
    const kind = KINDS[e.detail ? e.detail.kind : e.kind] || 'other';
    const k = byKind[kind] || (byKind[kind] = { count: 0, maxMs: 0, totalMs: 0 });
    k.count++; k.totalMs += e.duration; if (e.duration > k.maxMs) k.maxMs = e.duration;
  }
}).observe({ entryTypes: ['gc'] });
process.on('SIGURG', () => {
  const s = Float64Array.from(pauses).sort();
  const at = (q) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : null);
  let total = 0;
  for (const v of s) total += v;
  const m = process.memoryUsage();
  fs.writeFileSync(out + '.tmp', JSON.stringify({ pid: process.pid, at: Date.now(), count: s.length, p50Ms: at(0.5),
    p99Ms: at(0.99), maxMs: s.length ? s[s.length - 1] : null, totalMs: total, byKind, rss: m.rss, heapUsed: m.heapUsed,
    heapTotal: m.heapTotal }));
  fs.renameSync(out + '.tmp', out);
  pauses = [];
  byKind = {};
});
`;

/** Sends `signal` to the server and returns the JSON its preload hook then writes to `file` (pid and `at` checked). */
export async function signalForReport<T extends { pid: number; at: number }>(
  server: Server,
  signal: NodeJS.Signals,
  file: string,
  timeoutMs = 10_000,
): Promise<T> {
  const sent = Date.now();
  process.kill(server.pid, signal);
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    await sleep(50);
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8')) as T;
    if (r.at >= sent && r.pid === server.pid) return r;
  }
  throw new Error(`no answer to ${signal} from the hook in the server`);
}

/** What a benchmark with a server of its own prepares: a temporary directory, a preload hook, the runtime, ports. */
export interface OwnServer {
  /** Temporary directory (remove it at the end); the server's data directory is `dataDir` inside it. */
  readonly tmp: string;
  readonly dataDir: string;
  /** The preload file (`node -r`), and the file the hook writes its reports to. */
  readonly hook: string;
  readonly reportFile: string;
  readonly runtime: ServerRuntime;
  readonly sipPort: number;
  readonly httpPort: number;
}

/** Writes `hookText` into a fresh temporary directory, prepares the runtime and picks two free ports. */
export async function prepareOwnServer(label: string, kind: Runtime, hookText: string): Promise<OwnServer> {
  const tmp = mkdtempSync(join(tmpdir(), `ph-bench-${label}-`));
  const hook = join(tmp, 'hook.js');
  writeFileSync(hook, hookText);
  const runtime = prepareRuntime(kind);
  const sipPort = await freePort();
  const httpPort = await freePort();
  return { tmp, dataDir: join(tmp, 'data'), hook, reportFile: join(tmp, 'report.json'), runtime, sipPort, httpPort };
}

/** The --runtime option, checked. */
export function runtimeKind(kind: string): Runtime {
  if (kind !== 'build' && kind !== 'ts-node') throw new Error('--runtime is build or ts-node');
  return kind;
}

/** After `seconds`, kills the server (if any) and exits with code 3: a benchmark stops by itself. */
export function hardTimeLimit(label: string, seconds: number, server: () => Server | undefined): void {
  const timer = setTimeout(() => {
    process.stderr.write(`${label}: hard time limit reached\n`);
    const s = server();
    if (s?.isRunning()) s.child.kill('SIGKILL');
    process.exit(3);
  }, seconds * 1000);
  timer.unref();
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopServer(server: Server, graceMs = 10_000): Promise<string> {
  if (!server.isRunning()) return server.exited;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    server.child.kill('SIGKILL');
  }, graceMs);
  const how = await server.exited;
  clearTimeout(timer);
  return how;
}

/** VmRSS of a process in KiB, from /proc/<pid>/status. */
export function vmRssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

export async function getJson(url: string, timeoutMs = 60_000): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

/** `total` of GET /api/subscriptions?kind=sip (a page of one item; used once, after measuring). */
export async function sipSubscriptionTotal(httpPort: number): Promise<number> {
  const body = await getJson(`http://127.0.0.1:${httpPort}/api/subscriptions?kind=sip&limit=1`);
  const total = typeof body === 'object' && body !== null ? (body as { total?: unknown }).total : undefined;
  if (typeof total !== 'number') throw new Error('GET /api/subscriptions: no total');
  return total;
}

// ---------------------------------------------------------------------------------------------------------
// The start-up benchmark

interface Statement {
  run(...params: unknown[]): unknown;
}
interface SqliteDb {
  prepare(sql: string): Statement & { all(...params: unknown[]): unknown[] };
  transaction(fn: () => void): () => void;
  pragma(s: string): unknown;
  close(): void;
}
type SqliteCtor = new (file: string) => SqliteDb;

/** better-sqlite3 (a dependency of the server, without type declarations here). */
function openDb(file: string): SqliteDb {
  const Database = createRequire(join(root, 'package.json'))('better-sqlite3') as SqliteCtor;
  return new Database(file);
}

const COLUMNS = [
  'id',
  'kind',
  'presentity',
  'event',
  'event_id',
  'watcher',
  'status',
  'accept',
  'call_id',
  'local_tag',
  'dialog',
  'cseq_reserved',
  'remote_cseq',
  'expires_at',
  'created_at',
] as const;

/** Nullable columns a plain presence subscription leaves NULL (RFC 6665 event parameters, package state). */
const LEFT_NULL: readonly string[] = ['event_params', 'package_state', 'owner'];

/** Like the server's time-ordered ids: 12 hex digits of milliseconds, then random UUID digits. */
function timeOrderedId(ms: number): string {
  const t = ms.toString(16).padStart(12, '0').slice(-12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-${randomUUID().slice(14)}`;
}

interface SeedOptions {
  readonly file: string;
  readonly rows: number;
  readonly presentities: number;
  readonly domain: string;
  readonly sipPort: number;
  readonly sinkPort: number;
  readonly run: string;
}

/** The dialog of stored row `i`, as `Dialog.toJSON()` and the repository's `{ dialog, flow }` write it. */
function seedDialog(o: SeedOptions, i: number, localTag: string): { callId: string; json: string } {
  const callId = `st${o.run}-${i}@127.0.0.1`;
  const watcher = `w${o.run}-${i}`;
  const flow = {
    protocol: 'udp',
    localAddress: '127.0.0.1',
    localPort: o.sipPort,
    remoteAddress: '127.0.0.1',
    remotePort: o.sinkPort,
  };
  const dialog = {
    callId,
    localTag,
    remoteTag: `${o.run}t${i}`,
    localUri: `<sip:p${i % o.presentities}@${o.domain}>`,
    remoteUri: `<sip:${watcher}@${o.domain}>`,
    remoteTarget: `sip:${watcher}@127.0.0.1:${o.sinkPort}`,
    routeSet: [],
    localSeq: 0,
    remoteSeq: 1,
    flow,
  };
  return { callId, json: JSON.stringify({ dialog, flow }) };
}

/** Inserts the rows in one transaction; returns the milliseconds it took. */
function seed(o: SeedOptions): number {
  const db = openDb(o.file);
  try {
    const have = new Set(
      db
        .prepare('PRAGMA table_info(active_watchers)')
        .all()
        .map((c) => (c as { name: string }).name),
    );
    const missing = COLUMNS.filter((c) => !have.has(c));
    const unknown = [...have].filter((c) => !(COLUMNS as readonly string[]).includes(c) && !LEFT_NULL.includes(c));
    if (missing.length > 0 || unknown.length > 0) {
      throw new Error(
        `active_watchers columns changed: have ${[...have].join(',')}; missing ${missing.join(',')}; unknown ${unknown.join(',')}`,
      );
    }
    const insert = db.prepare(
      `INSERT INTO active_watchers (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
    const t = now();
    const base = Date.now() - o.rows;
    const expiresAt = Date.now() + 7 * 24 * 3600 * 1000;
    db.transaction(() => {
      for (let i = 0; i < o.rows; i++) {
        const localTag = randomBytes(6).toString('hex');
        const { callId, json } = seedDialog(o, i, localTag);
        const created = base + i;
        insert.run(
          timeOrderedId(created),
          'sip',
          `sip:p${i % o.presentities}@${o.domain}`,
          'presence',
          null,
          `sip:w${o.run}-${i}@${o.domain}`,
          'active',
          'application/pidf+xml',
          callId,
          localTag,
          json,
          1000,
          1,
          expiresAt,
          created,
        );
      }
    })();
    const ms = now() - t;
    db.pragma('wal_checkpoint(TRUNCATE)');
    return Math.round(ms);
  } finally {
    db.close();
  }
}

/** Sends OPTIONS every `intervalMs` (a new transaction each) until one gets 200; performance.now() of it. */
async function firstOptions200(sipPort: number, intervalMs: number, timeoutMs: number): Promise<number> {
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => undefined); // ICMP port unreachable while the server is not bound yet
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const local = sock.address().port;
  const id = runId();
  let n = 0;
  try {
    return await new Promise<number>((resolve, reject) => {
      const send = (): void => {
        const i = n++;
        sock.send(
          Buffer.from(
            `OPTIONS sip:127.0.0.1:${sipPort} SIP/2.0\r\n` +
              `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${id}o${i};rport\r\n` +
              `Max-Forwards: 70\r\n` +
              `From: <sip:startup-probe@127.0.0.1>;tag=${id}\r\n` +
              `To: <sip:127.0.0.1:${sipPort}>\r\n` +
              `Call-ID: op${id}-${i}@127.0.0.1\r\n` +
              `CSeq: ${i + 1} OPTIONS\r\n` +
              `Content-Length: 0\r\n\r\n`,
          ),
          sipPort,
          '127.0.0.1',
        );
      };
      const ticker = setInterval(send, intervalMs);
      const deadline = setTimeout(() => {
        clearInterval(ticker);
        reject(new Error(`no 200 to OPTIONS within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.on('message', (data) => {
        if (statusOf(data.toString('latin1')) !== 200) return;
        const t = now();
        clearInterval(ticker);
        clearTimeout(deadline);
        resolve(t);
      });
      send();
    });
  } finally {
    sock.close();
  }
}

/** The UDP socket the stored dialogs point at: answers nothing, except the probe dialog's requests. */
class Sink {
  received = 0;
  probeNotifies = 0;
  probeStatus = 0;
  private readonly sock = dgram.createSocket('udp4');
  private probeCallId = '';

  async open(): Promise<number> {
    await new Promise<void>((resolve) => this.sock.bind(0, '127.0.0.1', resolve));
    this.sock.on('message', (data) => {
      this.onMessage(data);
    });
    return this.sock.address().port;
  }

  /** An in-dialog re-SUBSCRIBE (RFC 6665 §4.1.2.1) of stored row `i`: expects 200 and a NOTIFY. */
  async probe(o: SeedOptions, i: number, localTag: string, timeoutMs = 5000): Promise<void> {
    const { callId } = seedDialog(o, i, localTag);
    this.probeCallId = callId;
    const watcher = `w${o.run}-${i}`;
    const presentity = `sip:p${i % o.presentities}@${o.domain}`;
    this.sock.send(
      Buffer.from(
        `SUBSCRIBE ${presentity} SIP/2.0\r\n` +
          `Via: SIP/2.0/UDP 127.0.0.1:${o.sinkPort};branch=z9hG4bK${o.run}probe;rport\r\n` +
          `Max-Forwards: 70\r\n` +
          `From: <sip:${watcher}@${o.domain}>;tag=${o.run}t${i}\r\n` +
          `To: <${presentity}>;tag=${localTag}\r\n` +
          `Call-ID: ${callId}\r\n` +
          `CSeq: 2 SUBSCRIBE\r\n` +
          `Contact: <sip:${watcher}@127.0.0.1:${o.sinkPort}>\r\n` +
          `Event: presence\r\n` +
          `Accept: application/pidf+xml\r\n` +
          `Expires: 3600\r\n` +
          `Content-Length: 0\r\n\r\n`,
      ),
      o.sipPort,
      '127.0.0.1',
    );
    const deadline = now() + timeoutMs;
    while (now() < deadline && (this.probeStatus === 0 || this.probeNotifies === 0)) await sleep(20);
  }

  close(): void {
    this.sock.close();
  }

  private onMessage(data: Buffer): void {
    const msg = data.toString('latin1');
    if (this.probeCallId === '' || callIdOf(msg) !== this.probeCallId) {
      this.received++;
      return;
    }
    const status = statusOf(msg);
    if (status >= 200) this.probeStatus = status;
    else if (status === 0 && methodOf(msg) === 'NOTIFY') {
      this.probeNotifies++;
      this.sock.send(responseFor(msg), sipPortOf(msg), '127.0.0.1');
    }
  }
}

/** The server's port from the top Via's sent-by of a request it sent. */
function sipPortOf(msg: string): number {
  const m = /\r\nVia:\s*SIP\/2\.0\/UDP\s+[^:;\s]+:(\d+)/i.exec(msg);
  return m ? Number(m[1]) : 0;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a script URL belongs: `node_modules/<package>`, `src/<dir>`, `node:internal`, …. */
function owner(url: string): string {
  if (url === '') return '(native/gc/idle)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const src = /\/(src|migrations)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2].split('/').slice(0, -1).join('/') || src[2]}`;
  return url;
}

/** Self time by function and by package, in ms, from a .cpuprofile. */
function summarizeProfile(file: string, top: number): Record<string, unknown> {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    if (!node) continue;
    const cf = node.callFrame;
    const url = cf.url.startsWith('file://') ? cf.url.slice(7) : cf.url;
    const key =
      `${cf.functionName || '(anonymous)'} ${url ? `${relative(root, url).replace(/^(\.\.\/)+tmp\/ph-bench-build-\w+\//, '')}:${cf.lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + dt);
    const o = owner(url);
    pkg.set(o, (pkg.get(o) ?? 0) + dt);
  }
  const topOf = (m: Map<string, number>): [string, number][] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, Math.round(v)]);
  return {
    profileMs: Math.round((p.endTime - p.startTime) / 1000),
    selfMsByPackage: Object.fromEntries(topOf(pkg)),
    selfMsByFunction: Object.fromEntries(topOf(fn)),
  };
}

interface StartRun {
  healthMs: number;
  optionsMs: number;
  rssKiB: number;
  rssAfter2sKiB: number;
}

async function main(): Promise<void> {
  const args = parseArgs({
    rows: 100000,
    presentities: 1000,
    domain: 'example.com',
    runs: 2,
    /** `build` (tsc into a temporary directory, then node) or `ts-node`. */
    runtime: 'build',
    /** Poll interval of GET /health and OPTIONS, ms. */
    interval: 50,
    /** Give up on a start after this many seconds. */
    startTimeout: 60,
    /** Also profile one start (node --cpu-prof) and print where the CPU time went. */
    cpuProf: false,
    profileTop: 25,
    /** Extra node flags for the server, space-separated (e.g. `--max-semi-space-size=64`). */
    nodeFlags: '',
    keep: false,
  });
  if (args.runtime !== 'build' && args.runtime !== 'ts-node') throw new Error('--runtime is build or ts-node');
  const hardStop = setTimeout(
    () => {
      process.stderr.write('startup: hard time limit reached\n');
      process.exit(3);
    },
    (args.startTimeout * (args.runs + 3) + 180) * 1000,
  );
  hardStop.unref();

  const runtime = prepareRuntime(args.runtime);
  const dataDir = mkdtempSync(join(tmpdir(), 'ph-bench-startup-'));
  const sipPort = await freePort();
  const httpPort = await freePort();
  const sink = new Sink();
  const sinkPort = await sink.open();
  const seedOpts: SeedOptions = {
    file: join(dataDir, 'presence-hub.sqlite'),
    rows: args.rows,
    presentities: args.presentities,
    domain: args.domain,
    sipPort,
    sinkPort,
    run: runId(),
  };
  const nodeFlags = args.nodeFlags.split(' ').filter((f) => f !== '');
  const serverOpts = { runtime, sipPort, httpPort, dataDir, nodeFlags };
  let server: Server | undefined;
  try {
    // 1. Schema: the server migrates an empty database.
    let t0 = now();
    server = startServer(serverOpts);
    const emptyHealthMs = (await waitHealthy(server, httpPort, args.startTimeout * 1000, args.interval)) - t0;
    const emptyRssKiB = vmRssKiB(server.pid);
    await stopServer(server);
    server = undefined;

    // 2. Rows, as the server writes them.
    process.stderr.write(`# inserting ${args.rows} rows\n`);
    const insertMs = seed(seedOpts);
    const dbBytes = statSync(seedOpts.file).size;
    const probeDb = openDb(seedOpts.file);
    const probeRow = probeDb
      .prepare('SELECT local_tag FROM active_watchers WHERE call_id = ?')
      .all(`st${seedOpts.run}-0@127.0.0.1`)[0] as { local_tag: string } | undefined;
    probeDb.close();
    if (!probeRow) throw new Error('seeded row 0 not found');

    // 3. Timed starts.
    const runs: StartRun[] = [];
    let total = -1;
    let probe: Record<string, number> = {};
    for (let r = 0; r < args.runs; r++) {
      t0 = now();
      server = startServer(serverOpts);
      const [health, options] = await Promise.all([
        waitHealthy(server, httpPort, args.startTimeout * 1000, args.interval),
        firstOptions200(sipPort, args.interval, args.startTimeout * 1000),
      ]);
      const rssKiB = vmRssKiB(server.pid);
      await sleep(2000);
      const run: StartRun = {
        healthMs: Math.round(health - t0),
        optionsMs: Math.round(options - t0),
        rssKiB,
        rssAfter2sKiB: vmRssKiB(server.pid),
      };
      runs.push(run);
      process.stderr.write(`# start ${r + 1}: ${JSON.stringify(run)}\n`);
      if (r === args.runs - 1) {
        // 4. Restored for real: one stored dialog refreshed in-dialog, and the count.
        await sink.probe(seedOpts, 0, probeRow.local_tag);
        probe = { reSubscribeStatus: sink.probeStatus, notifies: sink.probeNotifies };
        const t = now();
        total = await sipSubscriptionTotal(httpPort);
        probe.listMs = Math.round(now() - t);
      }
      await stopServer(server);
      server = undefined;
    }

    // 5. Optional profile of one more start, until serving.
    let profile: Record<string, unknown> | undefined;
    if (args.cpuProf) {
      const profDir = join(dataDir, 'cpu-prof');
      t0 = now();
      server = startServer({ ...serverOpts, nodeFlags: [...nodeFlags, '--cpu-prof', '--cpu-prof-dir', profDir] });
      await Promise.all([
        waitHealthy(server, httpPort, args.startTimeout * 1000, args.interval),
        firstOptions200(sipPort, args.interval, args.startTimeout * 1000),
      ]);
      const servingMs = Math.round(now() - t0);
      await stopServer(server);
      server = undefined;
      const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
      profile =
        files.length > 0
          ? {
              servingMs,
              file: args.keep ? join(profDir, files[0]) : undefined,
              ...summarizeProfile(join(profDir, files[0]), args.profileTop),
            }
          : { servingMs, error: 'no profile written (server did not exit cleanly?)' };
    }

    const best = (k: keyof StartRun): number => Math.min(...runs.map((x) => x[k]));
    const servingMs = Math.min(...runs.map((x) => Math.max(x.healthMs, x.optionsMs)));
    const result = {
      script: 'startup',
      command: `ts-node --transpile-only bench/load/startup.ts ${process.argv.slice(2).join(' ')}`.trim(),
      runtime: runtime.kind,
      nodeFlags,
      buildMs: runtime.buildMs,
      rows: args.rows,
      insertMs,
      dbBytes,
      emptyDb: { healthMs: Math.round(emptyHealthMs), rssKiB: emptyRssKiB },
      runs,
      healthMs: best('healthMs'),
      optionsMs: best('optionsMs'),
      servingMs,
      targetMs: 5000,
      rssKiB: best('rssAfter2sKiB'),
      rssPerRestoredSubscriptionBytes: Math.round(((best('rssAfter2sKiB') - emptyRssKiB) * 1024) / args.rows),
      restoredTotal: total,
      restoredOk: total === args.rows && probe.reSubscribeStatus === 200 && probe.notifies > 0,
      probe,
      /** Datagrams the sink got from the server besides the probe (restored dialogs get no NOTIFY at start). */
      sinkDatagrams: sink.received,
      ...(profile && { profile }),
    };
    console.log(JSON.stringify(result));
  } finally {
    if (server) await stopServer(server);
    sink.close();
    runtime.cleanup();
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
