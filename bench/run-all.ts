/**
 * `npm run bench`: the figures of DESIGN.md's table, each with the command that produced it.
 * Builds nothing: runs the parser benchmark in this process's child, starts the server (src/main.ts on a
 * fresh SQLite file, free ports on 127.0.0.1), and drives it with the load clients in bench/load/ over UDP
 * (and the browser WebSocket for fan-out). Loopback only; every client is bounded in count and time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/utils/test-app';

const root = join(__dirname, '..');
const tsNode = [join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only'];

function run(label: string, script: string, args: string[]): string {
  const command = `ts-node --transpile-only ${script} ${args.join(' ')}`;
  process.stdout.write(`\n## ${label}\n$ ${command}\n`);
  const r = spawnSync(process.execPath, [...tsNode, join(root, script), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
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

async function main(): Promise<void> {
  run('SIP parser, typical SUBSCRIBE, one core', 'bench/parser.bench.ts', []);
  const dataDir = mkdtempSync(join(tmpdir(), 'ph-bench-'));
  const sipPort = await freePort();
  const httpPort = await freePort();
  const server = spawn(process.execPath, [...tsNode, join(root, 'src/main.ts')], {
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
    },
    stdio: 'inherit',
  });
  try {
    await waitHealthy(httpPort);
    const target = ['--host', '127.0.0.1', '--port', String(sipPort)];
    run('REGISTER rate (200 received)', 'bench/load/register-rate.ts', [
      ...target,
      '--count',
      '20000',
      '--window',
      '300',
      '--duration',
      '60',
    ]);
    run('SUBSCRIBE -> 2xx -> first NOTIFY answered, new dialogs', 'bench/load/subscribe-rate.ts', [
      ...target,
      '--count',
      '20000',
      '--window',
      '300',
      '--duration',
      '60',
    ]);
    run('PUBLISH fan-out to 1,000 SIP + 1,000 WS watchers', 'bench/load/fanout.ts', [
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
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
