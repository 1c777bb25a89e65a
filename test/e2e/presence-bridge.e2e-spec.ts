/**
 * Issue 4, point 8 (SIP side): SIP and the browser WebSocket (/ws) bridged through the one notifier. A SIP
 * PUBLISH reaches a browser-style WS watcher as `state` within a second, and a WS or REST publish reaches SIP
 * watchers over UDP, TCP and WS as NOTIFY.
 */
import WebSocket from 'ws';
import type { RunningApp } from '../../src/app.factory';
import { pidf, type SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import {
  TRANSPORTS,
  basics,
  eventually,
  expectValidPidf,
  nextNotify,
  openClient,
  portsOf,
  uniqueAor,
  type ServerPorts,
} from '../utils/presence-e2e';

interface ServerMessage {
  type: string;
  id?: string | number;
  aor?: string;
  event?: string;
  state?: unknown;
  etag?: string;
  message?: string;
}

/** A browser-style client of /ws: sends JSON, collects every message the server pushes. */
class BrowserSocket {
  readonly messages: { at: number; msg: ServerMessage }[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(data).toString('utf8');
      this.messages.push({ at: Date.now(), msg: JSON.parse(text) as ServerMessage });
    });
  }

  static open(httpPort: number): Promise<BrowserSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        resolve(new BrowserSocket(ws));
      });
    });
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** The first message after index `from` that matches, within `timeoutMs`. */
  waitFor(
    pred: (m: ServerMessage) => boolean,
    timeoutMs: number,
    what: string,
    from = 0,
  ): Promise<{ at: number; msg: ServerMessage }> {
    return eventually(() => this.messages.slice(from).find((m) => pred(m.msg)), timeoutMs, what, 10);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) {
        resolve();
        return;
      }
      this.ws.once('close', () => {
        resolve();
      });
      this.ws.close();
    });
  }
}

describe.each(databaseKinds())('SIP and browser WebSocket bridged on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let ports: ServerPorts;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
    ports = portsOf(app);
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  describe.each(TRANSPORTS)('SIP over %s', (transport) => {
    let sip: SipTestClient;
    let browser: BrowserSocket;

    beforeEach(async () => {
      sip = await openClient(ports, transport);
      browser = await BrowserSocket.open(ports.http);
    });

    afterEach(async () => {
      await browser.close();
      await sip.close();
    });

    it('a SIP PUBLISH reaches a WS watcher as state within a second, and a SIP watcher as NOTIFY', async () => {
      const aor = uniqueAor();
      const { dialog } = await sip.subscribe({ uri: aor, event: 'presence', expires: 120 });
      await nextNotify(sip, dialog.callId);
      browser.send({ type: 'subscribe', id: '1', aor, event: 'presence' });
      await browser.waitFor((m) => m.type === 'state' && m.id === '1', 2000, 'the initial state');
      const mark = browser.messages.length;

      const sentAt = Date.now();
      const res = await sip.publish({ uri: aor, event: 'presence', expires: 120, body: pidf(aor, 'open', 'from sip') });
      expect(res.status).toBe(200);
      const state = await browser.waitFor(
        (m) => m.type === 'state' && m.id === '1' && JSON.stringify(m.state).includes('from sip'),
        1000,
        'a state message with the SIP note within 1 s',
        mark,
      );
      expect(state.at - sentAt).toBeLessThanOrEqual(1000);
      expect(state.msg.aor).toBe(aor);
      expect(state.msg.event).toBe('presence');
      expect(JSON.stringify(state.msg.state)).toContain('open');
      const notify = await nextNotify(sip, dialog.callId, 1000, (m) => m.body.includes('from sip'));
      expect(basics(notify.body)).toEqual(['open']);
    });

    it('a WS publish reaches a SIP watcher as NOTIFY', async () => {
      const aor = uniqueAor();
      const { response, dialog } = await sip.subscribe({ uri: aor, event: 'presence', expires: 120 });
      expect(response.status).toBe(200);
      const first = await nextNotify(sip, dialog.callId);
      expect(basics(first.body)).toEqual(['closed']);

      browser.send({ type: 'publish', id: '2', aor, status: 'open', note: 'from ws' });
      const published = await browser.waitFor((m) => m.id === '2', 2000, 'an answer to the publish');
      expect(published.msg).toMatchObject({ type: 'published', id: '2' });

      const notify = await nextNotify(sip, dialog.callId, 2000, (m) => m.body.includes('from ws'));
      expect(basics(notify.body)).toEqual(['open']);
      expectValidPidf(notify.body);
    });

    it('a REST publish reaches a SIP watcher as NOTIFY', async () => {
      const aor = uniqueAor();
      const { dialog } = await sip.subscribe({ uri: aor, event: 'presence', expires: 120 });
      await nextNotify(sip, dialog.callId);

      const res = await fetch(`http://127.0.0.1:${ports.http}/api/presentities/${encodeURIComponent(aor)}/presence`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ status: 'closed', note: 'from rest', expires: 120 }),
      });
      expect(res.status).toBeLessThan(300);

      const notify = await nextNotify(sip, dialog.callId, 2000, (m) => m.body.includes('from rest'));
      expect(basics(notify.body)).toEqual(['closed']);
      expectValidPidf(notify.body);
    });
  });
});
