import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { makeTestPki, type TestPki } from './test-pki';
import type { IncomingRequest } from '../transaction/incoming-request';
import { SipStack } from '../transaction/sip-stack';
import { TlsTransport } from './tls.transport';

const SUBSCRIBE = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'subscribe-typical.sip'));

describe('TlsTransport on 127.0.0.1', () => {
  let pki: TestPki;
  let tls: TlsTransport;
  let stack: SipStack;
  const received: IncomingRequest[] = [];

  beforeAll(() => {
    pki = makeTestPki('proxy.example.com');
  });
  afterAll(() => {
    pki.remove();
  });

  beforeEach(async () => {
    received.length = 0;
    tls = new TlsTransport({
      host: '127.0.0.1',
      port: 0,
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ca: pki.caPem,
    });
    stack = new SipStack({ transports: [tls] });
    stack.onRequest((r) => {
      received.push(r);
      r.respond(200, 'OK');
    });
    await stack.start();
  });
  afterEach(async () => {
    await stack.stop();
  });

  function open(withClientCert: boolean): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = connect({
        host: '127.0.0.1',
        port: tls.localPort,
        ca: pki.caPem,
        servername: 'localhost',
        ...(withClientCert && { cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) }),
      });
      s.once('secureConnect', () => {
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  function readUntil(s: TLSSocket, pattern: RegExp): Promise<string> {
    let buf = '';
    return new Promise((resolve) => {
      const onData = (d: Buffer): void => {
        buf += d.toString();
        if (pattern.test(buf)) {
          s.off('data', onData);
          resolve(buf);
        }
      };
      s.on('data', onData);
    });
  }

  it('frames SIP over TLS, answers over the connection and says tls on the flow', async () => {
    const s = await open(false);
    const answer = readUntil(s, /\r\n\r\n/);
    s.write(SUBSCRIBE);
    expect(await answer).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(received[0].flow.protocol).toBe('tls');
    expect(received[0].flow.connectionId).toMatch(/^tls-/);
    expect(received[0].flow.tlsPeer).toBeUndefined();
    s.destroy();
  });

  it("puts a verified client certificate's subject and SIP domains on the flow", async () => {
    const s = await open(true);
    const answer = readUntil(s, /\r\n\r\n/);
    s.write(SUBSCRIBE);
    await answer;
    const peer = received[0].flow.tlsPeer;
    expect(peer).toEqual({
      subject: 'proxy.example.com',
      altNames: ['URI:sip:proxy.example.com', 'DNS:proxy.example.com'],
      sipDomains: ['proxy.example.com'],
      authorized: true,
    });
    s.destroy();
  });

  it('sends a later request over the connection the peer opened', async () => {
    const s = await open(false);
    const answer = readUntil(s, /\r\n\r\n/);
    s.write(SUBSCRIBE);
    await answer;
    const flow = received[0].flow;
    const notify = readUntil(s, /^NOTIFY /m);
    expect(tls.hasConnection(flow.connectionId!)).toBe(true);
    await tls.send(flow, Buffer.from('NOTIFY sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n'));
    expect(await notify).toContain('NOTIFY sip:x@127.0.0.1');
    s.destroy();
  });

  it('reports a handshake that is not TLS and stays up', async () => {
    const errors: string[] = [];
    tls.onError((e) => errors.push(e.message));
    const plain = tcpConnect(tls.localPort, '127.0.0.1');
    await new Promise((r) => plain.once('connect', r));
    const closed = new Promise((r) => plain.once('close', r));
    plain.on('error', () => undefined);
    plain.write(SUBSCRIBE);
    await closed;
    expect(errors.some((m) => m.startsWith('TLS handshake from'))).toBe(true);
    const s = await open(false);
    const answer = readUntil(s, /\r\n\r\n/);
    s.write(SUBSCRIBE);
    expect(await answer).toMatch(/^SIP\/2\.0 200 OK/);
    s.destroy();
  });
});
