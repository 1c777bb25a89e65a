/**
 * A real Kamailio for the interop suite: its own configuration (kamailio-config.ts) and SQLite file in a
 * temporary directory, listening on a free UDP port of a loopback address, started in the foreground (`-DD`) as a
 * child of the test process and stopped with its process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { freePort } from '../utils/test-app';
import { SipTestClient, sleep } from '../utils/sip-test-client';
import { KAMAILIO_MODULES_DIR, KAMAILIO_SQLITE_SCHEMA_DIR } from './kamailio-paths';
import { KAMAILIO_SQLITE_SCHEMAS, kamailioConfig, type KamailioAuth, type ReginfoPeer } from './kamailio-config';

export interface StartKamailioOptions {
  /** Loopback address to listen on; default 127.0.0.1 (another, as 127.0.0.2, sets it apart from test clients). */
  readonly host?: string;
  /** UDP port; default a free one (given to start again where a stopped Kamailio listened). */
  readonly port?: number;
  /** Domain pua_reginfo completes AoRs with; default `kamailio.test`. */
  readonly domain?: string;
  /** Digest challenges to every PUBLISH and SUBSCRIBE not sent by Kamailio itself. */
  readonly auth?: KamailioAuth;
  /** A server (ours) whose `reg` package Kamailio's pua_reginfo subscribes to on the test's trigger. */
  readonly reginfoPeer?: ReginfoPeer;
}

export interface RunningKamailio {
  readonly host: string;
  readonly port: number;
  readonly domain: string;
  /** `sip:<host>:<port>`: Kamailio as an outbound proxy or next hop. */
  readonly uri: string;
  readonly dir: string;
  /** Everything Kamailio has logged so far (stderr). */
  log(): string;
  /**
   * What Kamailio logged from offset `from` of {@link log} on (the script's `interop:` lines with each
   * message it received and each reply to what it sent; debug lines left out), at most the last 12,000
   * characters: the SIP of a failed test, for its error message.
   */
  sipTrace(from?: number): string;
  /**
   * Resolves with the first log line matching `pattern` from offset `from` of {@link log} on (polled), or
   * rejects after `timeoutMs`.
   */
  waitForLog(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Kamailio's tables in a new SQLite file (through TypeORM's better-sqlite3 driver, as the app opens SQLite). */
async function createTables(file: string, auth: KamailioAuth | undefined): Promise<void> {
  const db = new DataSource({ type: 'better-sqlite3', database: file });
  await db.initialize();
  try {
    for (const name of KAMAILIO_SQLITE_SCHEMAS) {
      const text = readFileSync(join(KAMAILIO_SQLITE_SCHEMA_DIR, `${name}-create.sql`), 'utf8');
      // One statement per query; the files hold plain CREATE and INSERT statements, each ending a line with `;`.
      for (const statement of text.split(/;\s*$/m).map((s) => s.trim())) {
        if (statement !== '') await db.query(statement);
      }
    }
    for (const a of auth?.accounts ?? []) {
      await db.query('INSERT INTO subscriber (username, domain, password) VALUES (?, ?, ?)', [
        a.username,
        auth?.realm,
        a.password,
      ]);
    }
  } finally {
    await db.destroy();
  }
}

/** Answers OPTIONS with 200 once its workers are up. */
async function answersOptions(host: string, port: number): Promise<boolean> {
  const client = await SipTestClient.open({ transport: 'udp', host, port, timerF: 1000 });
  try {
    const res = await client.request({ method: 'OPTIONS', uri: `sip:ping@${host}:${port}` });
    return res.status === 200;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const exited = once(child, 'exit').then(() => undefined);
  const pid = child.pid;
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => {
    signalGroup('SIGKILL');
  }, 10_000);
  return exited.finally(() => {
    clearTimeout(timer);
  });
}

/** Starts Kamailio on a free port; rejects with its log when it does not come up within 20 s. */
export async function startKamailio(options: StartKamailioOptions = {}): Promise<RunningKamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'ph-kamailio-'));
  const sqliteFile = join(dir, 'kamailio.sqlite');
  await createTables(sqliteFile, options.auth);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const domain = options.domain ?? 'kamailio.test';
  const cfgFile = join(dir, 'kamailio.cfg');
  writeFileSync(
    cfgFile,
    kamailioConfig({
      host,
      port,
      sqliteFile,
      domain,
      modulesDir: KAMAILIO_MODULES_DIR,
      auth: options.auth,
      reginfoPeer: options.reginfoPeer,
    }),
  );
  const args = ['-f', cfgFile, '-DD', '-E', '-n', '2', '-m', '64', '-M', '8', '-w', dir, '-Y', dir];
  const child = spawn('kamailio', [...args, '-P', join(dir, 'kamailio.pid'), '-l', `udp:${host}:${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const log = (): string => output;
  const stop = async (): Promise<void> => {
    await stopChild(child);
    writeFileSync(join(dir, 'kamailio.log'), output);
    if (process.env.KEEP_KAMAILIO_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kamailio exited with ${child.exitCode}:\n${output.slice(-4000)}`);
    if (existsSync(join(dir, 'kamailio.pid')) && (await answersOptions(host, port))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`kamailio did not answer OPTIONS on port ${port} within 20 s:\n${output.slice(-4000)}`);
    }
    await sleep(200);
  }

  return {
    host,
    port,
    domain,
    uri: `sip:${host}:${port}`,
    dir,
    log,
    sipTrace(from = 0): string {
      const text = output
        .slice(from)
        .split('\n')
        .filter((l) => !/^\s*\d+\(\d+\) DEBUG:/.test(l))
        .join('\n');
      return text.length > 12_000 ? `...${text.slice(-12_000)}` : text;
    },
    async waitForLog(pattern: RegExp, timeoutMs = 5000, from = 0): Promise<string> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const line = output
          .slice(from)
          .split('\n')
          .find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() > end)
          throw new Error(`kamailio logged nothing matching ${String(pattern)} within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    stop,
  };
}

/**
 * Wraps a test body: when it fails, the error message ends with what Kamailio logged during the test (its
 * {@link RunningKamailio.sipTrace}), so a failure against Kamailio shows the SIP exchanged.
 */
export function traced(kam: () => RunningKamailio, body: () => Promise<void>): () => Promise<void> {
  return async () => {
    const before = kam();
    const from = before.log().length;
    try {
      await body();
    } catch (e) {
      // A Kamailio started again during the test logs from its own beginning.
      const now = kam();
      if (e instanceof Error) e.message += `\n\nKamailio during this test:\n${now.sipTrace(now === before ? from : 0)}`;
      throw e;
    }
  };
}

/** `text` as a literal inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The Call-ID of a line Kamailio logged while handling a message (its prefix `{<type> <cseq> <method> <call-id>}`). */
export function loggedCallId(line: string): string {
  const callId = /\{\d+ \d+ [A-Z]+ (\S+)\}/.exec(line)?.[1];
  if (callId === undefined) throw new Error(`no Call-ID in Kamailio's log line ${JSON.stringify(line)}`);
  return callId;
}

/** A pattern for Kamailio's log of the answer it received to a NOTIFY of dialog `callId`, with `status`. */
export function notifyAnswered(callId: string, status = '\\d+'): RegExp {
  return new RegExp(`NOTIFY ${escapeRegExp(callId)}\\} .*interop: reply ${status} `);
}
