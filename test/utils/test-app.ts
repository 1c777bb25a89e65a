import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/load-config';
import type { TestDatabase } from './test-database';

/** The whole application in this process, on free ports, against a test database. */
export async function startTestApp(db: TestDatabase, env: Record<string, string> = {}): Promise<RunningApp> {
  const config = loadConfig({
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    SIP_PORT: '0',
    SIP_HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    DB_URL: db.url,
    DATA_DIR: db.dataDir,
    // A slow CI machine must not shed a test's requests; overload has its own test with a probe.
    SIP_OVERLOAD_DELAY_MS: '0',
    SIP_MAX_PENDING_REQUESTS: '0',
    // Authentication is on by default; the tests of it turn it on, the others speak to an open server.
    AUTH_ENABLED: 'false',
    ...env,
  });
  return startApp(config);
}

/** A port free on both UDP and TCP at 127.0.0.1. */
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
      const s = createSocket('udp4');
      s.once('error', () => {
        resolve(false);
      });
      s.bind(port, '127.0.0.1', () =>
        s.close(() => {
          resolve(true);
        }),
      );
    });
    if (udpFree) return port;
  }
}

/** The server as a separate process (`node dist` or ts-node), for kill -9 and restart tests. */
export interface ServerProcess {
  readonly sipPort: number;
  readonly httpPort: number;
  readonly child: ChildProcess;
  readonly output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

async function waitForHealth(
  httpPort: number,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not become healthy within ${timeoutMs} ms:\n${output()}`);
}

/** Environment of a server process on top of the test defaults; `undefined` removes a default (the setting's own applies). */
export type ServerEnv = Readonly<Record<string, string | undefined>>;

/** `src/main.ts` (through ts-node) in a child process with the given ports and database. */
function startServerProcess(
  db: TestDatabase,
  ports: { sipPort: number; httpPort: number },
  env: ServerEnv,
): ChildProcess {
  const root = join(__dirname, '..', '..');
  const withDefaults: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '',
    HTTP_PORT: String(ports.httpPort),
    HTTP_HOST: '127.0.0.1',
    SIP_PORT: String(ports.sipPort),
    SIP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SIP_OVERLOAD_DELAY_MS: '0',
    AUTH_ENABLED: 'false',
    DB_URL: db.url,
    DATA_DIR: db.dataDir,
    ...env,
  };
  const merged = Object.fromEntries(Object.entries(withDefaults).filter(([, v]) => v !== undefined));
  return spawn(
    process.execPath,
    [join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', join(root, 'src/main.ts')],
    {
      cwd: root,
      env: merged,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

/** Runs the server process expected to stop by itself (a start-up failure); resolves with its exit and output. */
export async function runServerToExit(
  db: TestDatabase,
  ports: { sipPort: number; httpPort: number },
  env: ServerEnv = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startServerProcess(db, ports, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts `src/main.ts` in a child process with the given ports and database; resolves when healthy. */
export async function spawnServer(
  db: TestDatabase,
  ports: { sipPort: number; httpPort: number },
  env: ServerEnv = {},
): Promise<ServerProcess> {
  const child = startServerProcess(db, ports, env);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const output = (): string => out;
  await waitForHealth(ports.httpPort, child, output, 60_000);
  return {
    ...ports,
    child,
    output,
    kill: (signal: NodeJS.Signals = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => {
          resolve();
        });
        child.kill(signal);
      }),
  };
}
