/**
 * What the SIP bridge answers by itself (OPTIONS, 405, 501, 400, 483, 513, 416, 420, 404) and how it copes
 * with what a peer may send: garbage and truncated datagrams, split and coalesced messages on TCP, and a
 * datagram longer than its Content-Length (DESIGN.md "Robustness"; RFC 3261 §8.2, §18.3).
 */
import { randomBytes } from 'node:crypto';
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import {
  loadFixture,
  newBranch,
  randomToken,
  SipTestClient,
  splitHeaderList,
  type SipTestMessage,
} from '../utils/sip-test-client';
import { api, registrationPath } from '../utils/e2e-helpers';

const MAX_MESSAGE_SIZE = 2048;

function listOf(res: SipTestMessage, header: string): string[] {
  return res.headerValues(header).map((v) => v.trim().toUpperCase());
}

describe.each(databaseKinds())('SIP robustness on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let udp: SipTestClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, { SIP_DOMAINS: 'example.com', SIP_MAX_MESSAGE_SIZE: String(MAX_MESSAGE_SIZE) });
    udp = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp, timerF: 8000 });
  });

  afterAll(async () => {
    await udp.close();
    await app.close();
    await db.drop();
  });

  /** An OPTIONS over `client` that must get 200: proof the server still serves after what came before. */
  async function expectOptionsOk(client: SipTestClient = udp): Promise<SipTestMessage> {
    const res = await client.request({
      method: 'OPTIONS',
      uri: 'sip:example.com',
      headers: { Accept: 'application/sdp' },
    });
    expect(res.status).toBe(200);
    return res;
  }

  /** Sends a raw message and waits for the response with its Call-ID. */
  async function rawExchange(client: SipTestClient, raw: string | Buffer, callId: string): Promise<SipTestMessage> {
    client.sendRaw(raw);
    return client.waitForResponse((m) => m.callId === callId, 5000);
  }

  describe('answers of the bridge (UDP)', () => {
    it('OPTIONS → 200 with Allow, Allow-Events and Accept', async () => {
      const res = await expectOptionsOk();
      expect(listOf(res, 'allow')).toEqual(expect.arrayContaining(['OPTIONS', 'REGISTER']));
      expect(res.headerValues('allow-events').length).toBeGreaterThan(0);
      expect(res.headerValues('accept').length).toBeGreaterThan(0);
    });

    it.each(['INVITE', 'MESSAGE'])('%s → 405 with Allow', async (method) => {
      const res = await udp.request({ method, uri: 'sip:bob@example.com' });
      expect(res.status).toBe(405);
      const allow = listOf(res, 'allow');
      expect(allow).toEqual(expect.arrayContaining(['OPTIONS', 'REGISTER']));
      expect(allow).not.toContain(method);
    });

    it('an unknown method FOO → 501', async () => {
      const res = await udp.request({ method: 'FOO', uri: 'sip:bob@example.com' });
      expect(res.status).toBe(501);
    });

    it('a REGISTER without Call-ID → 400 whose reason names Call-ID', async () => {
      const vars = udp.fixtureVars();
      const raw = loadFixture('robust-register-no-call-id', vars);
      udp.sendRaw(raw);
      const branch = /branch=([^;\r\n]+)/.exec(raw)?.[1];
      const res = await udp.waitForResponse((m) => m.branch === branch, 5000);
      expect(res.status).toBe(400);
      expect(res.reason?.toLowerCase()).toContain('call-id');
      expect((await api(app.httpPort, 'GET', registrationPath('sip:nocallid@example.com'))).status).toBe(404);
    });

    it('Max-Forwards: 0 on REGISTER → 483', async () => {
      const res = await udp.register({ aor: 'sip:hops@example.com', expires: 600, headers: { 'Max-Forwards': 0 } });
      expect(res.status).toBe(483);
      expect((await api(app.httpPort, 'GET', registrationPath('sip:hops@example.com'))).status).toBe(404);
    });

    it('a tel: Request-URI → 416', async () => {
      const res = await udp.request({ method: 'OPTIONS', uri: 'tel:+15551234567', to: 'sip:bob@example.com' });
      expect(res.status).toBe(416);
    });

    it('Require: foo → 420 with Unsupported: foo', async () => {
      const res = await udp.register({
        aor: 'sip:require@example.com',
        expires: 600,
        headers: { Require: 'foo' },
      });
      expect(res.status).toBe(420);
      expect(listOf(res, 'unsupported')).toEqual(['FOO']);
    });

    it('a REGISTER for a domain not served → 404', async () => {
      const res = await udp.request({
        method: 'REGISTER',
        uri: 'sip:other.org',
        from: 'sip:carol@other.org',
        to: 'sip:carol@other.org',
        headers: { Contact: `<${udp.contactUri('carol')}>`, Expires: 600 },
      });
      expect(res.status).toBe(404);
      expect((await api(app.httpPort, 'GET', registrationPath('sip:carol@other.org'))).status).toBe(404);
    });

    it('a datagram larger than SIP_MAX_MESSAGE_SIZE → 513', async () => {
      const body = 'x'.repeat(MAX_MESSAGE_SIZE * 2);
      const res = await udp.request({
        method: 'OPTIONS',
        uri: 'sip:example.com',
        headers: { 'Content-Type': 'text/plain' },
        body,
      });
      expect(res.status).toBe(513);
      await expectOptionsOk();
    });
  });

  describe('garbage on UDP', () => {
    it('survives random bytes, half a message, empty and CRLF-only datagrams, and a truncated body', async () => {
      const options = loadFixture('robust-options', udp.fixtureVars());
      const truncatedVars = udp.fixtureVars();
      const truncated = loadFixture('robust-truncated-body', truncatedVars, { contentLength: 'keep' });
      const garbage: Buffer[] = [
        randomBytes(1),
        randomBytes(64),
        randomBytes(1400),
        Buffer.from(options.slice(0, Math.floor(options.length / 2))),
        Buffer.from(options.slice(0, 20)),
        Buffer.alloc(0),
        Buffer.from('\r\n'),
        Buffer.from('\r\n\r\n'),
        Buffer.from('\r\n'.repeat(200)),
        Buffer.from('SIP/2.0 200 OK\r\n\r\n'),
        Buffer.from('INVITE\r\n\r\n'),
        Buffer.from(truncated),
        Buffer.concat([
          Buffer.from('OPTIONS sip:example.com SIP/2.0\r\nVia: '),
          randomBytes(200),
          Buffer.from('\r\n\r\n'),
        ]),
      ];
      for (const g of garbage) udp.sendRaw(g);
      // Whatever those got (nothing, or a 400), the server still answers.
      await expectOptionsOk();
      const truncatedAnswers = udp.received.filter((m) => m.callId === truncatedVars.callId);
      for (const m of truncatedAnswers) expect(m.status).toBe(400);
      const health = await api(app.httpPort, 'GET', '/health');
      expect(health.status).toBe(200);
    });

    it('cuts a datagram at its Content-Length: the extra bytes are ignored', async () => {
      const vars = udp.fixtureVars();
      const raw = loadFixture('robust-register', {
        ...vars,
        user: 'cut',
        contact: `<${udp.contactUri('cut')}>`,
      });
      const res = await rawExchange(
        udp,
        raw + 'Contact: <sip:intruder@192.0.2.99>\r\n\r\nREGISTER sip:example.com SIP/2.0\r\n\r\n',
        vars.callId,
      );
      expect(res.status).toBe(200);
      expect(res.headerValues('contact').map((c) => splitHeaderList(c)[0])).toHaveLength(1);
      const rest = await api(app.httpPort, 'GET', registrationPath('sip:cut@example.com'));
      expect(rest.status).toBe(200);
      expect((rest.json as { contacts: { uri: string }[] }).contacts.map((c) => c.uri)).toEqual([
        udp.contactUri('cut'),
      ]);
    });
  });

  describe('TCP', () => {
    let tcp: SipTestClient;

    beforeEach(async () => {
      tcp = await SipTestClient.open({ transport: 'tcp', host: '127.0.0.1', port: app.sipPorts.tcp, timerF: 8000 });
    });

    afterEach(async () => {
      await tcp.close();
    });

    function register(user: string): { raw: string; callId: string } {
      const vars = tcp.fixtureVars({ user, contact: `<${tcp.contactUri(user)}>` });
      return { raw: loadFixture('robust-register', vars), callId: vars.callId };
    }

    it('one REGISTER split in 3 chunks sent 50 ms apart gets one 200', async () => {
      const { raw, callId } = register(`split${randomToken(2)}`);
      const a = Math.floor(raw.length / 3);
      // Cut inside the start line, inside a header and right before the final CRLF.
      await tcp.sendRawChunks([raw.slice(0, a), raw.slice(a, raw.length - 1), raw.slice(raw.length - 1)], 50);
      const res = await tcp.waitForResponse((m) => m.callId === callId, 5000);
      expect(res.status).toBe(200);
      await expectOptionsOk(tcp);
      expect(tcp.received.filter((m) => m.kind === 'response' && m.callId === callId)).toHaveLength(1);
      expect(tcp.received.filter((m) => m.status === 400)).toEqual([]);
      expect(tcp.unparsed).toEqual([]);
    });

    it('two REGISTERs coalesced in one write get two 200s', async () => {
      const first = register(`coal${randomToken(2)}`);
      const second = register(`coal${randomToken(2)}`);
      tcp.sendRaw(first.raw + second.raw);
      const [r1, r2] = await Promise.all([
        tcp.waitForResponse((m) => m.callId === first.callId, 5000),
        tcp.waitForResponse((m) => m.callId === second.callId, 5000),
      ]);
      expect(r1.status).toBe(200);
      expect(r2.status).toBe(200);
    });

    it('a message larger than SIP_MAX_MESSAGE_SIZE → 513', async () => {
      const callId = `${randomToken(8)}@big`;
      const built = tcp.buildRequest({
        method: 'OPTIONS',
        uri: 'sip:example.com',
        callId,
        branch: newBranch(),
        headers: { 'Content-Type': 'text/plain' },
        body: 'y'.repeat(MAX_MESSAGE_SIZE * 2),
      });
      const res = await rawExchange(tcp, built.raw, callId);
      expect(res.status).toBe(513);
      // The server keeps serving other connections.
      const other = await SipTestClient.open({ transport: 'tcp', host: '127.0.0.1', port: app.sipPorts.tcp });
      try {
        await expectOptionsOk(other);
      } finally {
        await other.close();
      }
    });
  });

  describe('WebSocket', () => {
    it('a message larger than SIP_MAX_MESSAGE_SIZE → 513, and the socket keeps working', async () => {
      const ws = await SipTestClient.open({ transport: 'ws', host: '127.0.0.1', port: app.httpPort, path: '/sip' });
      try {
        const res = await ws.request({
          method: 'OPTIONS',
          uri: 'sip:example.com',
          headers: { 'Content-Type': 'text/plain' },
          body: 'z'.repeat(MAX_MESSAGE_SIZE * 4),
        });
        expect(res.status).toBe(513);
        await expectOptionsOk(ws);
      } finally {
        await ws.close();
      }
    });
  });
});
