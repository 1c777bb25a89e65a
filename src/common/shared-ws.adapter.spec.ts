import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { SharedWsAdapter } from './shared-ws.adapter';

/** Opens a client WebSocket; resolves with the open socket or the HTTP status / error that refused it. */
function connect(
  url: string,
  protocols?: string[],
  origin?: string,
): Promise<{ ws?: WebSocket; status?: number; error?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, origin === undefined ? {} : { origin });
    ws.once('open', () => {
      resolve({ ws });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.once('error', (e) => {
      resolve({ error: e.message });
    });
  });
}

describe('SharedWsAdapter', () => {
  let server: http.Server;
  let adapter: SharedWsAdapter;
  let gateway: WebSocketServer;
  let sip: WebSocketServer;
  let base: string;
  const sipUpgrades: string[] = [];

  beforeEach(async () => {
    server = http.createServer();
    adapter = new SharedWsAdapter(server, ['/sip'], (req) => req.headers.origin !== 'https://evil.example');
    // What Nest does for `@WebSocketGateway({ path: '/ws' })` on the application's HTTP server (port 0).
    gateway = adapter.create(0, { path: '/ws' }) as WebSocketServer;
    gateway.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        ws.send(`gateway:${(isBinary ? Buffer.from(data as Buffer) : (data as Buffer)).toString('utf8')}`);
      });
    });
    // Another owner of upgrades on the same server, registered after the adapter (the SIP WS transport).
    sip = new WebSocketServer({ noServer: true });
    sip.on('connection', (ws) => {
      ws.on('message', (data) => {
        ws.send(`sip:${(data as Buffer).toString('utf8')}`);
      });
    });
    server.on('upgrade', (req: http.IncomingMessage, socket, head) => {
      if (req.url?.split('?')[0] !== '/sip') return;
      sipUpgrades.push(req.url);
      sip.handleUpgrade(req, socket, head, (ws) => sip.emit('connection', ws, req));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const ws of gateway.clients) ws.terminate();
    for (const ws of sip.clients) ws.terminate();
    await adapter.close(gateway);
    await new Promise<void>((resolve) => {
      sip.close(() => {
        resolve();
      });
    });
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    sipUpgrades.length = 0;
  });

  async function roundTrip(ws: WebSocket, text: string): Promise<string> {
    const reply = once(ws, 'message');
    ws.send(text);
    const [data] = (await reply) as [Buffer];
    return data.toString('utf8');
  }

  it('hands upgrades for its gateway path to the gateway', async () => {
    const { ws } = await connect(`${base}/ws`);
    expect(ws).toBeDefined();
    await expect(roundTrip(ws!, 'hello')).resolves.toBe('gateway:hello');
    ws!.close();
  });

  it('matches the gateway path with a query string', async () => {
    const { ws } = await connect(`${base}/ws?token=1`);
    expect(ws).toBeDefined();
    ws!.close();
  });

  it('leaves upgrades for a foreign path to their own listener', async () => {
    const { ws } = await connect(`${base}/sip`, ['sip']);
    expect(ws).toBeDefined();
    await expect(roundTrip(ws!, 'OPTIONS')).resolves.toBe('sip:OPTIONS');
    expect(sipUpgrades).toEqual(['/sip']);
    ws!.close();
  });

  it('keeps the gateway and the foreign endpoint usable side by side', async () => {
    const [a, b] = await Promise.all([connect(`${base}/ws`), connect(`${base}/sip`, ['sip'])]);
    await expect(roundTrip(a.ws!, 'x')).resolves.toBe('gateway:x');
    await expect(roundTrip(b.ws!, 'y')).resolves.toBe('sip:y');
    a.ws!.close();
    b.ws!.close();
  });

  it('refuses with 403 an upgrade for its gateway that allowUpgrade refuses (an Origin check)', async () => {
    const refused = await connect(`${base}/ws`, undefined, 'https://evil.example');
    expect(refused.status).toBe(403);
    expect(gateway.clients.size).toBe(0);
    const allowed = await connect(`${base}/ws`, undefined, 'https://board.example');
    expect(allowed.ws).toBeDefined();
    allowed.ws!.close();
  });

  it('refuses and closes upgrades for any other path', async () => {
    const refused = await connect(`${base}/other`);
    expect(refused.ws).toBeUndefined();
    expect(refused.status ?? refused.error).toBeDefined();
    if (refused.status !== undefined) expect(refused.status).toBe(404);
    expect(sipUpgrades).toEqual([]);
    expect(gateway.clients.size).toBe(0);
  });

  it('destroys the raw socket of an unknown path', async () => {
    const { port } = server.address() as AddressInfo;
    const req = http.request({
      port,
      host: '127.0.0.1',
      path: '/sipx',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket' },
    });
    req.end();
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    expect(res.statusCode).toBe(404);
    res.resume();
    await once(res.socket, 'close');
    expect(res.socket.destroyed).toBe(true);
  });
});
