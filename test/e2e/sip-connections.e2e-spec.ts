/**
 * SIP connections are bounded (issue 12, point 4): a TCP connection holding part of a message is closed after
 * sip.partialMessageMs; an idle one that carries nothing is closed after sip.idleConnectionMs while one
 * carrying a registration stays open; past sip.maxConnections new SIP connections are refused at once, with a
 * log line, while /health, /ws and the connections already open keep working.
 */
import * as net from 'node:net';
import WebSocket from 'ws';
import type { RunningApp } from '../../src/app.factory';
import { randomToken, sleep, SipTestClient } from '../utils/sip-test-client';
import { freePort, spawnServer, startTestApp, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

/** Generous bounds: the settings are short, but the machine may be busy. Behaviour is asserted, not timing. */
const CLOSE_WITHIN_MS = 15_000;

function tcpConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('error', reject);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** Resolves true when the server closes `s` within `ms`, false when it is still open then. */
function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) {
      resolve(true);
      return;
    }
    const timer = setTimeout(() => {
      resolve(false);
    }, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    s.once('close', done);
    s.once('end', done);
    s.on('error', () => undefined);
    s.resume();
  });
}

function wsOpens(url: string, protocol?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve(true);
    });
    ws.once('error', () => {
      resolve(false);
    });
    ws.once('unexpected-response', () => {
      resolve(false);
    });
  });
}

describe.each(databaseKinds())('SIP connection timeouts on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  const clients: SipTestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, { SIP_IDLE_CONNECTION_MS: '1500', SIP_PARTIAL_MESSAGE_MS: '500' });
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await app.close();
    await db.drop();
  });

  async function tcpClient(): Promise<SipTestClient> {
    const c = await SipTestClient.open({ transport: 'tcp', host: '127.0.0.1', port: app.sipPorts.tcp });
    clients.push(c);
    return c;
  }

  it('closes a connection that holds half a message', async () => {
    const c = await tcpClient();
    c.sendRaw(`OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP ${c.sentBy};branch=z9hG4bK${randomToken()}\r\n`);
    await c.waitForClose(CLOSE_WITHIN_MS);
  });

  it('closes a connection whose body stays shorter than its Content-Length', async () => {
    const c = await tcpClient();
    const { raw } = c.buildRequest({ method: 'OPTIONS', uri: 'sip:example.com' });
    c.sendRaw(`${raw.replace(/Content-Length: *0\r\n/i, 'Content-Length: 100\r\n')}only this`);
    await c.waitForClose(CLOSE_WITHIN_MS);
  });

  it('closes an idle connection with nothing registered and keeps one carrying a registration', async () => {
    const registered = await tcpClient();
    const reg = await registered.register({ aor: `sip:conn-${randomToken(4)}@example.com`, expires: 600 });
    expect(reg.status).toBe(200);
    const idle = await tcpClient();
    const options = await idle.request({ method: 'OPTIONS', uri: 'sip:example.com' });
    expect(options.status).toBe(200);

    await idle.waitForClose(CLOSE_WITHIN_MS);
    // The registered connection was as idle as the other one, for longer: it is still served.
    await sleep(500);
    const again = await registered.request({ method: 'OPTIONS', uri: 'sip:example.com' });
    expect(again.status).toBe(200);
  });
});

describe('SIP connection cap', () => {
  const CAP = 3;
  let db: TestDatabase;
  let server: ServerProcess;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    server = await spawnServer(
      db,
      { sipPort: await freePort(), httpPort: await freePort() },
      { SIP_MAX_CONNECTIONS: String(CAP), LOG_LEVEL: 'warn' },
    );
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await server.kill();
    await db.drop();
  });

  it('refuses SIP connections past the cap with a log line while /health, /ws and open flows work', async () => {
    const first = await SipTestClient.open({ transport: 'tcp', host: '127.0.0.1', port: server.sipPort });
    try {
      for (let i = 1; i < CAP; i++) sockets.push(await tcpConnect(server.sipPort));
      await sleep(200);
      const extra: net.Socket[] = [];
      for (let i = 0; i < 5; i++) extra.push(await tcpConnect(server.sipPort).catch(() => new net.Socket()));
      sockets.push(...extra);
      const closed = await Promise.all(extra.map((s) => closedWithin(s, CLOSE_WITHIN_MS)));
      expect(closed).toEqual(extra.map(() => true));
      const deadline = Date.now() + CLOSE_WITHIN_MS;
      while (!/SIP connection limit of 3 reached/.test(server.output()) && Date.now() < deadline) await sleep(100);
      expect(server.output()).toMatch(/SIP connection limit of 3 reached: refused \d+ connection/);

      expect(await wsOpens(`ws://127.0.0.1:${server.httpPort}/sip`, 'sip')).toBe(true);
      expect(await wsOpens(`ws://127.0.0.1:${server.httpPort}/ws`)).toBe(true);
      const health = await fetch(`http://127.0.0.1:${server.httpPort}/health`);
      expect(health.status).toBe(200);
      const options = await first.request({ method: 'OPTIONS', uri: 'sip:example.com' });
      expect(options.status).toBe(200);
    } finally {
      await first.close();
    }
  });
});
