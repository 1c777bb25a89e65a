/**
 * SIP over TLS and HTTPS/WSS with real clients, certificates made at test time by `openssl`
 * (src/sip/transport/test-pki.ts): SIPp (built without TLS in Debian) through a `socat` TLS
 * tunnel, so the server side is a real TLS connection carrying SIPp's dialog; a raw client with `sips:` URIs;
 * sip.js over WSS; REST over HTTPS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { Subscriber, UserAgent, type Notification } from 'sip.js';
import WebSocket, { type ClientOptions } from 'ws';
import type { RunningApp } from '../../src/app.factory';
import type { SipSubscription } from '../../src/pa/core/subscription';
import { SubscriptionRegistry } from '../../src/pa/core/subscription.registry';
import { SipBridge } from '../../src/sip-bridge/sip-bridge.service';
import { makeTestPki, type TestPki } from '../../src/sip/transport/test-pki';
import { eventually, nextNotify, subscriptionState, uniqueAor } from '../utils/presence-e2e';
import { SipTestClient } from '../utils/sip-test-client';
import { freeLocalPort, runSipp } from '../utils/sipp';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** PUT a presence document over HTTPS, verifying the server against the test CA. */
function httpsPut(port: number, ca: string, path: string, json: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(json);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'PUT',
        ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

describe('TLS: SIP over TLS, HTTPS and WSS (SQLite)', () => {
  let pki: TestPki;
  let db: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    pki = makeTestPki();
    db = await createTestDatabase('sqlite');
    app = await startTestApp(db, {
      SIP_TLS_PORT: '0',
      SIP_TLS_CERT: pki.serverCert,
      SIP_TLS_KEY: pki.serverKey,
      SIP_TLS_CA: pki.caCert,
      HTTP_TLS_CERT: pki.serverCert,
      HTTP_TLS_KEY: pki.serverKey,
    });
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
    pki.remove();
  });

  const presencePath = (aor: string): string => `/api/presentities/${encodeURIComponent(aor)}/presence`;

  it('listens on TLS and WSS', () => {
    expect(app.sipPorts.tls).toBeGreaterThan(0);
    expect(app.sipPorts.wss).toBe(app.httpPort);
    expect(app.sipPorts.ws).toBeUndefined();
  });

  it('a sips: SUBSCRIBE over TLS: Contact sips:;transport=tls, NOTIFYs over the same connection', async () => {
    const watcher = await SipTestClient.open({
      transport: 'tls',
      host: '127.0.0.1',
      port: app.sipPorts.tls,
      tlsCa: pki.caPem,
    });
    watcher.autoAnswer('NOTIFY', 200);
    try {
      const presentity = uniqueAor('tls');
      const { response, dialog } = await watcher.subscribe({
        uri: presentity.replace(/^sip:/, 'sips:'),
        event: 'presence',
        from: uniqueAor('watcher').replace(/^sip:/, 'sips:'),
        expires: 300,
      });
      expect(response.status).toBe(200);
      expect(response.header('contact')).toMatch(/^<sips:127\.0\.0\.1:\d+;transport=tls>$/);
      const first = await nextNotify(watcher, dialog.callId);
      expect(first.header('via')).toMatch(/^SIP\/2\.0\/TLS /);
      expect(subscriptionState(first).state).toBe('active');
      expect(
        await httpsPut(app.httpPort, pki.caPem, presencePath(presentity), { status: 'open', note: 'over tls' }),
      ).toBe(200);
      const next = await nextNotify(watcher, dialog.callId, 5000, (m) => m.body.includes('over tls'));
      expect(next.receivedOver).toBe('tls');
    } finally {
      await watcher.close();
    }
  });

  it('SIPp subscribe.xml through a TLS tunnel (socat) with a client certificate: 200, the first NOTIFY over TLS, the peer identity on the flow', async () => {
    const tunnelPort = await freeLocalPort();
    const socat: ChildProcess = spawn(
      'socat',
      [
        `TCP-LISTEN:${tunnelPort},bind=127.0.0.1,reuseaddr,fork`,
        `OPENSSL:127.0.0.1:${app.sipPorts.tls},cafile=${pki.caCert},commonname=localhost,cert=${pki.clientCert},key=${pki.clientKey}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      await eventually(
        async () =>
          (await run('socat', ['-u', 'OPEN:/dev/null', `TCP:127.0.0.1:${tunnelPort}`])).code === 0 ? true : undefined,
        5000,
        'socat listening',
      );
      const user = `tls-sipp-${Date.now().toString(36)}`;
      const result = await runSipp({
        scenario: 'subscribe',
        remote: `127.0.0.1:${tunnelPort}`,
        transport: 't1',
        vars: { presentity: user, domain: 'example.com', expires: '300' },
        timeoutMs: 15_000,
      });
      expect({ exitCode: result.exitCode, errors: result.errors }).toEqual({ exitCode: 0, errors: '' });
      expect(result.stats?.successfulCalls).toBe(1);
      // The tunnel presented the client certificate: the flow carries its verified identity for trusted-peer rules.
      const subs = app.app.get(SubscriptionRegistry).list({ presentity: `sip:${user}@example.com` });
      expect(subs).toHaveLength(1);
      const sub = subs[0] as SipSubscription;
      expect(sub.flow.protocol).toBe('tls');
      expect(app.app.get(SipBridge).tlsPeer(sub.flow)).toMatchObject({
        sipDomains: ['proxy.example.com'],
        authorized: true,
      });
    } finally {
      socat.kill('SIGTERM');
    }
  });

  it('sip.js subscribes over WSS and sees a state published over HTTPS', async () => {
    const ca = pki.caPem;
    // sip.js opens its transport with the global WebSocket; this one trusts the test CA.
    class CaWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
        super(url, protocols, { ...options, ca });
      }
    }
    (globalThis as unknown as { WebSocket: unknown }).WebSocket = CaWebSocket;
    const presentity = uniqueAor('wss');
    const ua = new UserAgent({
      uri: UserAgent.makeURI(uniqueAor('browser')),
      transportOptions: { server: `wss://127.0.0.1:${app.httpPort}/sip` },
      logLevel: 'error',
    });
    await ua.start();
    const bodies: string[] = [];
    const target = UserAgent.makeURI(presentity);
    if (target === undefined) throw new Error('makeURI failed');
    const sub = new Subscriber(ua, target, 'presence', { expires: 300 });
    sub.delegate = {
      onNotify: (n: Notification) => {
        bodies.push(n.request.body);
        void n.accept();
      },
    };
    try {
      await sub.subscribe();
      await eventually(() => (bodies.length > 0 ? true : undefined), 5000, 'first NOTIFY over WSS');
      expect(await httpsPut(app.httpPort, ca, presencePath(presentity), { status: 'open', note: 'over wss' })).toBe(
        200,
      );
      await eventually(() => bodies.find((b) => b.includes('over wss')), 5000, 'the published note over WSS');
    } finally {
      await sub.unsubscribe();
      await ua.stop();
    }
  });

  it('the browser JSON WebSocket answers over WSS', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${app.httpPort}/ws`, { ca: pki.caPem });
    const presentity = uniqueAor('wss-json');
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const state = new Promise<Record<string, unknown>>((resolve) => {
        ws.once('message', (data: Buffer) => {
          resolve(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
        });
      });
      ws.send(JSON.stringify({ type: 'subscribe', id: 'w1', aor: presentity }));
      expect(await state).toMatchObject({ type: 'state', id: 'w1', aor: presentity, event: 'presence' });
    } finally {
      ws.close();
    }
  });
});
