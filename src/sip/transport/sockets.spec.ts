import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { parseMessage } from '../message/parser';
import type { SipResponse } from '../message/sip-message';
import { SipStack } from '../transaction/sip-stack';
import { TcpTransport } from './tcp.transport';
import { UdpTransport } from './udp.transport';
import { WsTransport } from './ws.transport';

const SUBSCRIBE = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'subscribe-typical.sip'));
const withBranch = (b: string): Buffer => Buffer.from(SUBSCRIBE.toString().replace('z9hG4bK74bf9a1c2e', b));

function stackOn(...transports: (UdpTransport | TcpTransport | WsTransport)[]): SipStack {
  const stack = new SipStack({ transports });
  stack.onRequest((r) => {
    r.respond(200, 'OK', { Expires: String(r.request.expires ?? 0) });
  });
  return stack;
}

/** Reads from a TCP socket until `n` framed SIP messages (or pong bytes) arrived. */
function collect(sock: Socket): { text: () => string } {
  let buf = '';
  sock.on('data', (d) => (buf += d.toString()));
  return { text: () => buf };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('UdpTransport on 127.0.0.1', () => {
  it('shares one flow object per source address and port', async () => {
    const t = new UdpTransport({ host: '127.0.0.1', port: 0 });
    const flows: unknown[] = [];
    t.onMessage((_data, flow) => flows.push(flow));
    await t.listen();
    const port = t.localPort;
    const a = createSocket('udp4');
    const b = createSocket('udp4');
    try {
      for (const sock of [a, a, b]) sock.send(Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'), port, '127.0.0.1');
      await until(() => flows.length === 3);
      expect(flows[1]).toBe(flows[0]);
      expect(flows[2]).not.toBe(flows[0]);
      expect(flows[2]).toMatchObject({ protocol: 'udp', remoteAddress: '127.0.0.1', localPort: port });
    } finally {
      a.close();
      b.close();
      await t.close();
    }
  });

  it('says input is pending once a turn has read 32 datagrams, and not after the turn', async () => {
    const t = new UdpTransport({ host: '127.0.0.1', port: 0 });
    const seen: boolean[] = [];
    t.onMessage(() => seen.push(t.inputPending()));
    await t.listen();
    const a = createSocket('udp4');
    try {
      // Sent before the transport's next read: the socket holds all 40 when it is read.
      for (let i = 0; i < 40; i++) a.send(Buffer.from(`OPTIONS sip:x${i} SIP/2.0\r\n\r\n`), t.localPort, '127.0.0.1');
      await until(() => seen.length === 40);
      expect(seen.indexOf(true)).toBe(31);
      await new Promise((r) => setImmediate(r));
      expect(t.inputPending()).toBe(false);
    } finally {
      a.close();
      await t.close();
    }
  });

  it('answers a SUBSCRIBE to the source port', async () => {
    const udp = new UdpTransport({ host: '127.0.0.1', port: 0 });
    const stack = stackOn(udp);
    await stack.start();
    const client = createSocket('udp4');
    const got = new Promise<Buffer>((resolve) => client.once('message', resolve));
    client.send(SUBSCRIBE, udp.localPort, '127.0.0.1');
    const res = parseMessage(await got) as SipResponse;
    expect(res.status).toBe(200);
    expect(res.via[0].received).toBe('127.0.0.1');
    expect(res.via[0].rport).toBe(client.address().port);
    client.close();
    await stack.stop();
  });

  it('sends requests as a client and reads the response', async () => {
    const a = new UdpTransport({ host: '127.0.0.1', port: 0 });
    const b = new UdpTransport({ host: '127.0.0.1', port: 0 });
    const sa = new SipStack({ transports: [a] });
    const sb = stackOn(b);
    await sa.start();
    await sb.start();
    const req = parseMessage(SUBSCRIBE);
    if (!('method' in req)) throw new Error('x');
    req.headers.delete('via');
    const res = await sa.sendRequest(req, {
      protocol: 'udp',
      localAddress: '127.0.0.1',
      localPort: a.localPort,
      remoteAddress: '127.0.0.1',
      remotePort: b.localPort,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('expires')).toBe('3600');
    await sa.stop();
    await sb.stop();
  });
});

describe('TcpTransport on 127.0.0.1', () => {
  let tcp: TcpTransport;
  let stack: SipStack;
  beforeEach(async () => {
    tcp = new TcpTransport({ host: '127.0.0.1', port: 0, maxMessageSize: 4096 });
    stack = stackOn(tcp);
    await stack.start();
  });
  afterEach(async () => {
    await stack.stop();
  });

  it('frames split and coalesced messages, answers keep-alives, reuses the connection', async () => {
    const sock = connect(tcp.localPort, '127.0.0.1');
    const out = collect(sock);
    await new Promise((r) => sock.once('connect', r));
    const one = withBranch('z9hG4bKsplit');
    sock.write(one.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(one.subarray(100));
    sock.write(Buffer.concat([withBranch('z9hG4bKc1'), Buffer.from('\r\n\r\n'), withBranch('z9hG4bKc2')]));
    await until(() => (out.text().match(/SIP\/2\.0 200 OK/g) ?? []).length === 3);
    expect(out.text()).toContain('\r\n\r\n\r\nSIP/2.0'); // the CRLF pong between responses... or after
    expect(out.text().match(/branch=z9hG4bK(split|c1|c2)/g)).toEqual([
      'branch=z9hG4bKsplit',
      'branch=z9hG4bKc1',
      'branch=z9hG4bKc2',
    ]);
    sock.destroy();
  });

  it('closes a stream that cannot be framed', async () => {
    const sock = connect(tcp.localPort, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    sock.write('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP x;branch=z9hG4bK1\r\n\r\n');
    await closed;
  });

  it('still sends the answer to a message before a framing fault, then closes', async () => {
    await stack.stop();
    tcp = new TcpTransport({ host: '127.0.0.1', port: 0, maxMessageSize: 4096 });
    stack = new SipStack({ transports: [tcp] });
    // Answered late, as a REGISTER waiting for its commit is.
    stack.onRequest((r) => {
      setTimeout(() => {
        r.respond(200, 'OK');
      }, 200);
    });
    await stack.start();
    const sock = connect(tcp.localPort, '127.0.0.1');
    const out = collect(sock);
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    sock.write(
      Buffer.concat([withBranch('z9hG4bKbefore'), Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n')]),
    );
    await closed;
    expect(out.text()).toMatch(/^SIP\/2\.0 200 OK/);
    expect(out.text()).toContain('branch=z9hG4bKbefore');
  });

  it('answers 513 to a message exceeding maxMessageSize, then closes the connection', async () => {
    const sock = connect(tcp.localPort, '127.0.0.1');
    sock.on('error', () => undefined);
    const out = collect(sock);
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    sock.write(Buffer.from(SUBSCRIBE.toString().replace('Content-Length: 0', 'Content-Length: 10000')));
    await closed;
    expect(out.text()).toMatch(/^SIP\/2\.0 513 /);
  });

  it('opens an outgoing connection and reads the response on it', async () => {
    const other = new TcpTransport({ host: '127.0.0.1', port: 0 });
    const client = new SipStack({ transports: [other] });
    await client.start();
    const req = parseMessage(withBranch('z9hG4bKout'));
    if (!('method' in req)) throw new Error('x');
    req.headers.delete('via');
    const res = await client.sendRequest(req, {
      protocol: 'tcp',
      localAddress: '127.0.0.1',
      localPort: other.localPort,
      remoteAddress: '127.0.0.1',
      remotePort: tcp.localPort,
    });
    expect(res.status).toBe(200);
    expect(res.via[0].protocol).toBe('TCP');
    await client.stop();
  });

  it('rejects send to an unreachable peer', async () => {
    await expect(
      tcp.send(
        { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 0, remoteAddress: '127.0.0.1', remotePort: 1 },
        Buffer.from('x'),
      ),
    ).rejects.toThrow();
  });
});

describe('WsTransport (RFC 7118) on an http.Server', () => {
  let http: Server;
  let ws: WsTransport;
  let stack: SipStack;
  let other: WebSocketServer;
  beforeEach(async () => {
    http = createServer();
    // Another app WebSocket at /ws that, like @nestjs/platform-ws, destroys upgrades for unknown paths.
    other = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/ws')
        other.handleUpgrade(req, socket, head, (c) => {
          c.send('hello from /ws');
        });
      else socket.destroy();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    ws = new WsTransport({ server: http, path: '/sip' });
    stack = stackOn(ws);
    await stack.start();
  });
  afterEach(async () => {
    await stack.stop();
    other.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });
  const port = (): number => (http.address() as { port: number }).port;

  it('answers a SUBSCRIBE over a sip-subprotocol WebSocket, one message per frame', async () => {
    const c = new WebSocket(`ws://127.0.0.1:${port()}/sip`, 'sip');
    await new Promise((r) => c.once('open', r));
    expect(c.protocol).toBe('sip');
    const got = new Promise<string>((r) =>
      c.once('message', (d: Buffer) => {
        r(d.toString());
      }),
    );
    c.send(SUBSCRIBE.toString());
    const res = parseMessage(Buffer.from(await got)) as SipResponse;
    expect(res.status).toBe(200);
    c.close();
  });

  it('refuses the /sip path without the sip subprotocol', async () => {
    const c = new WebSocket(`ws://127.0.0.1:${port()}/sip`, 'chat');
    const err = await new Promise<Error>((r) => c.once('error', r));
    expect(err.message).toMatch(/400/);
  });

  it('leaves other upgrade paths to their owner', async () => {
    const c = new WebSocket(`ws://127.0.0.1:${port()}/ws`);
    const msg = await new Promise<string>((r) =>
      c.once('message', (d: Buffer) => {
        r(d.toString());
      }),
    );
    expect(msg).toBe('hello from /ws');
    c.close();
  });

  it('cannot open outgoing connections', async () => {
    await expect(
      ws.send(
        { protocol: 'ws', localAddress: '', localPort: 0, remoteAddress: '127.0.0.1', remotePort: 1 },
        Buffer.from('x'),
      ),
    ).rejects.toThrow(/cannot open/);
  });
});
