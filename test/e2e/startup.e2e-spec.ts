/**
 * Issue 12, point 10: what a newcomer sees when the real process starts — one log line naming every listener
 * and the database in use — and, when a port is taken, one line on stderr and exit code 2 instead of a stack.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { pollUntil } from '../utils/e2e-helpers';
import { freePort, runServerToExit, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

/** The server's JSON log lines so far. */
function jsonLines(server: ServerProcess): { msg?: string; database?: string; missingNodeFlags?: string[] }[] {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; database?: string; missingNodeFlags?: string[] });
}

describe.each(databaseKinds())('start-up log on %s', (kind) => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await db.drop();
  });

  it('names the SIP transports, HTTP with /api, /docs, /ws, and the database, without a password', async () => {
    const ports = { sipPort: await freePort(), httpPort: await freePort() };
    server = await spawnServer(db, ports, { LOG_LEVEL: 'info' });
    const running = server;
    const line = await pollUntil(
      () => jsonLines(running).find((l) => l.msg?.startsWith('listening:')),
      5000,
      'the start log line',
    );
    const { sipPort, httpPort } = ports;
    expect(line.msg).toContain(
      `listening: SIP udp 127.0.0.1:${sipPort}, tcp 127.0.0.1:${sipPort}, ws 127.0.0.1:${httpPort}/sip; ` +
        `HTTP 127.0.0.1:${httpPort} (REST /api, OpenAPI /docs, health /health, browser WebSocket /ws); database `,
    );
    if (kind === 'sqlite') {
      expect(line.database).toBe(`SQLite ${resolve(db.dataDir, 'presence-hub.sqlite')}`);
    } else {
      const url = new URL(db.url);
      expect(line.database).toMatch(/^(MySQL|MariaDB) /);
      expect(line.database).toContain(`${url.hostname}:${url.port || '3306'}${url.pathname}`);
      if (url.password !== '') expect(line.msg).not.toContain(url.password);
    }
    expect(line.msg).toContain(`database ${line.database}`);
    // Started as `node <ts-node> src/main.ts`, without the flags `npm run start:prod` gives: it says which.
    const hint = await pollUntil(
      () => jsonLines(running).find((l) => l.missingNodeFlags !== undefined),
      5000,
      'the node flags hint',
    );
    expect(hint.missingNodeFlags).toEqual(['--v8-pool-size=1', '--no-memory-reducer']);
    expect(hint.msg).toContain('node started without --v8-pool-size=1 --no-memory-reducer');
  }, 150_000);
});

/** A socket holding a port, released by `close`. */
interface Holder {
  close(): Promise<void>;
}

describe('a port in use', () => {
  let db: TestDatabase;
  let holder: Holder | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterEach(async () => {
    await holder?.close();
    holder = undefined;
  });

  afterAll(async () => {
    await db.drop();
  });

  const releasedBy = (close: (done: () => void) => void): Holder => ({
    close: () =>
      new Promise<void>((done) => {
        close(done);
      }),
  });

  async function holdUdp(port: number): Promise<Holder> {
    const sock: Socket = createSocket('udp4');
    await new Promise<void>((done) => sock.bind(port, '127.0.0.1', done));
    return releasedBy((done) => {
      sock.close(done);
    });
  }

  async function holdTcp(port: number): Promise<Holder> {
    const srv: Server = createServer();
    await new Promise<void>((done) => srv.listen(port, '127.0.0.1', done));
    return releasedBy((done) => {
      srv.close(() => {
        done();
      });
    });
  }

  it.each([
    ['SIP UDP', 'sipPort', holdUdp, 'SIP_PORT (sip.port)'],
    ['SIP TCP', 'sipPort', holdTcp, 'SIP_PORT (sip.port)'],
    ['HTTP', 'httpPort', holdTcp, 'HTTP_PORT (http.port)'],
  ] as const)(
    '%s: exit code 2 and one line naming it, no stack trace',
    async (what, which, hold, setting) => {
      const ports = { sipPort: await freePort(), httpPort: await freePort() };
      holder = await hold(ports[which]);
      const run = await runServerToExit(db, ports);
      expect({ code: run.code, stderr: run.stderr }).toEqual({
        code: 2,
        stderr:
          `Cannot start: ${what} port 127.0.0.1:${ports[which]} is already in use; ` +
          `stop what listens there or set ${setting}\n`,
      });
      expect(run.stdout).not.toMatch(/\n\s+at /);
    },
    150_000,
  );
});
